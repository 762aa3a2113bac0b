#include "channels/dingtalk/stream_client.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <random>

#include "channels/common/wx_crypto.h"
#include "channels/dingtalk/dingtalk_callback.h"

namespace kefu::channels::dingtalk {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr char kBotTopic[] = "/v1.0/im/bot/messages/get";

RecordOutcome RecordSync(InboundRecorder& recorder, InboundMessage m) {
  std::promise<RecordOutcome> p;
  auto f = p.get_future();
  recorder.Record(std::move(m), [&p](RecordOutcome o) { p.set_value(std::move(o)); });
  return f.get();
}

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

bool ParseWsUrl(const std::string& url, Url& out) {
  std::string rest;
  if (url.rfind("wss://", 0) == 0) {
    out.tls = true;
    rest = url.substr(6);
  } else if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else {
    return false;
  }
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    out.host = hostport;
    out.port = out.tls ? "443" : "80";
  } else {
    out.host = hostport.substr(0, colon);
    out.port = hostport.substr(colon + 1);
  }
  return !out.host.empty();
}

}  // namespace

std::string StreamAckFrame(std::string_view message_id, int code, std::string_view data) {
  return nlohmann::json{
      {"code", code},
      {"headers", {{"contentType", "application/json"}, {"messageId", message_id}}},
      {"message", code == 200 ? "OK" : "error"},
      {"data", data}}
      .dump();
}

StreamFrameHandler::StreamFrameHandler(DingtalkAppConfig app, const Clock& clock,
                                       InboundRecorder& recorder)
    : app_(std::move(app)), clock_(clock), recorder_(recorder) {}

StreamAck StreamFrameHandler::OnFrame(std::string_view frame) {
  auto j = nlohmann::json::parse(frame, nullptr, false);
  if (!j.is_object() || !j.contains("headers") || !j["headers"].is_object()) {
    spdlog::warn("dingtalk stream app={}: unparseable frame", app_.name);
    return {};
  }
  const auto& h = j["headers"];
  std::string message_id = h.value("messageId", std::string());
  std::string type = j.value("type", std::string());
  std::string topic = h.value("topic", std::string());
  std::string data = j.value("data", std::string());
  if (type == "SYSTEM") {
    if (topic == "ping") return {StreamAckFrame(message_id, 200, data), false};
    if (topic == "disconnect") return {StreamAckFrame(message_id, 200, data), true};
    return {StreamAckFrame(message_id, 200, data), false};
  }
  auto payload = nlohmann::json::parse(data, nullptr, false);
  if (!payload.is_object() || !IsValidUtf8(data)) {
    spdlog::warn("dingtalk stream app={}: data is not JSON message_id={}", app_.name, message_id);
    return {StreamAckFrame(message_id, 400, "{\"response\": null}"), false};
  }
  InboundMessage m;
  if (type == "CALLBACK" && topic == kBotTopic) {
    auto msg = RobotMessageToInbound(app_, payload, data, clock_.NowUnixMs());
    if (!msg.ok()) return {StreamAckFrame(message_id, 400, "{\"response\": null}"), false};
    m = std::move(*msg);
  } else if (type == "EVENT") {
    std::string event_id = h.value("eventId", message_id);
    m.channel = "dingtalk";
    m.app = app_.name;
    m.dedupe_key = "dingtalk_event|" + app_.app_key + "|" + event_id;
    m.msg_type = "event";
    m.event = h.value("eventType", std::string());
    m.conversation = "dingtalk|" + app_.name + "|event";
    m.payload = data;
    m.reply_context = "{}";
    m.platform_msg_id = event_id;
    m.received_at_ms = clock_.NowUnixMs();
  } else {
    return {StreamAckFrame(message_id, 404, "{\"response\": null}"), false};
  }
  RecordOutcome o = RecordSync(recorder_, std::move(m));
  if (!o.status.ok()) {
    // Not stored: no 200, DingTalk redelivers.
    return {StreamAckFrame(message_id, 500, "{\"response\": null}"), false};
  }
  return {StreamAckFrame(message_id, 200, type == "EVENT" ? data : "{\"response\": null}"), false};
}

StreamKeepAlive::StreamKeepAlive(const Clock& clock, StreamKeepAliveOptions options)
    : clock_(clock), options_(options), last_received_(clock.Now()), last_ping_(last_received_) {}

void StreamKeepAlive::OnReceived() {
  last_received_ = clock_.Now();
}

void StreamKeepAlive::OnPingSent() {
  last_ping_ = clock_.Now();
}

StreamKeepAlive::Action StreamKeepAlive::Check() const {
  TimePoint now = clock_.Now();
  if (now - last_received_ > options_.idle_timeout) return Action::kReconnect;
  if (now - std::max(last_received_, last_ping_) >= options_.ping_interval) return Action::kPing;
  return Action::kNone;
}

DingtalkStreamClient::DingtalkStreamClient(DingtalkApi& api, StreamFrameHandler& handler,
                                           const Clock& clock, StreamKeepAliveOptions keep_alive)
    : api_(api), handler_(handler), clock_(clock), keep_alive_(keep_alive) {}

DingtalkStreamClient::~DingtalkStreamClient() {
  Stop();
}

void DingtalkStreamClient::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void DingtalkStreamClient::Stop() {
  stop_ = true;
  int fd = socket_fd_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  wait_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DingtalkStreamClient::Loop() {
  std::mt19937_64 rng(std::random_device{}());
  int failures = 0;
  while (!stop_) {
    bool ok = RunSession();
    if (stop_) break;
    failures = ok ? 0 : failures + 1;
    double base = std::min(60.0, static_cast<double>(1 << std::min(failures, 6)));
    double delay = ok ? 0.0 : base * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
    std::unique_lock lock(wait_mu_);
    wait_cv_.wait_for(lock, std::chrono::milliseconds(static_cast<int64_t>(delay * 1000)),
                      [&] { return stop_.load(); });
  }
}

bool DingtalkStreamClient::RunSession() {
  auto opened = api_.OpenStream("127.0.0.1");
  if (!opened.ok()) {
    spdlog::warn("dingtalk stream open failed: {}", opened.status().ToString());
    return false;
  }
  Url url;
  if (!ParseWsUrl(opened->first, url)) {
    spdlog::warn("dingtalk stream: bad endpoint");
    return false;
  }
  std::string target = url.target + (url.target.find('?') == std::string::npos ? "?" : "&") +
                       "ticket=" + PercentEncode(opened->second);
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(url.host, url.port);
    auto session = [&](auto& ws) {
      ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "kefu/0.1");
      }));
      ws.handshake(url.host, target);
      ++sessions_;
      StreamKeepAlive keep_alive(clock_, keep_alive_);
      ws.control_callback(
          [&keep_alive](websocket::frame_type, beast::string_view) { keep_alive.OnReceived(); });
      // One asynchronous read at a time; the io_context runs in poll-sized slices so that the
      // keep-alive clock is looked at while no frame arrives. Writes (ACKs, pings) are
      // synchronous on this thread and never overlap each other.
      beast::flat_buffer buffer;
      bool reading = false;
      bool arrived = false;
      beast::error_code read_error;
      while (!stop_) {
        if (!reading) {
          reading = true;
          ws.async_read(buffer, [&](beast::error_code ec, std::size_t) {
            reading = false;
            arrived = true;
            read_error = ec;
          });
        }
        ioc.restart();
        ioc.run_for(keep_alive_.poll);
        if (arrived) {
          arrived = false;
          if (read_error) throw beast::system_error(read_error);
          keep_alive.OnReceived();
          StreamAck ack = handler_.OnFrame(beast::buffers_to_string(buffer.data()));
          buffer.consume(buffer.size());
          if (!ack.frame.empty()) {
            ws.text(true);
            ws.write(asio::buffer(ack.frame));
          }
          if (ack.close_after) {
            ws.close(websocket::close_code::normal);
            return;
          }
          continue;
        }
        switch (keep_alive.Check()) {
          case StreamKeepAlive::Action::kReconnect:
            spdlog::warn("dingtalk stream: gateway silent for more than {} ms, reconnecting",
                         keep_alive_.idle_timeout.count());
            return;  // the socket closes with `ws`; Loop() opens a new connection at once
          case StreamKeepAlive::Action::kPing:
            ws.ping({});
            keep_alive.OnPingSent();
            ++pings_;
            break;
          case StreamKeepAlive::Action::kNone:
            break;
        }
      }
    };
    if (url.tls) {
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_default_verify_paths();
      ctx.set_verify_mode(asio::ssl::verify_peer);
      websocket::stream<beast::ssl_stream<tcp::socket>> ws(ioc, ctx);
      // SNI; the macro form of SSL_set_tlsext_host_name casts to void* (old-style cast).
      SSL_ctrl(ws.next_layer().native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
               TLSEXT_NAMETYPE_host_name, const_cast<char*>(url.host.c_str()));
      asio::connect(beast::get_lowest_layer(ws), endpoints);
      socket_fd_ = beast::get_lowest_layer(ws).native_handle();
      ws.next_layer().handshake(asio::ssl::stream_base::client);
      session(ws);
    } else {
      websocket::stream<tcp::socket> ws(ioc);
      asio::connect(beast::get_lowest_layer(ws), endpoints);
      socket_fd_ = beast::get_lowest_layer(ws).native_handle();
      session(ws);
    }
    socket_fd_ = -1;
    return true;
  } catch (const std::exception& e) {
    socket_fd_ = -1;
    if (!stop_) spdlog::warn("dingtalk stream session ended: {}", e.what());
    return false;
  }
}

}  // namespace kefu::channels::dingtalk
