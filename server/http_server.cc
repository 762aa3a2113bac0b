// The only translation unit of kefu that includes Boost.Asio/Beast: the build stays fast.
//
// Design notes (why, not what):
// - Requests are parsed with a Beast basic_parser that writes straight into kefu::HttpRequest and
//   responses are serialised by hand into one header string plus the body (a single writev): no
//   intermediate beast::http::message, so the per-request overhead over a bare Beast server stays
//   small.
// - Timeouts are deadlines stored in each session and checked by one sweeper timer per server,
//   instead of one asio timer armed and cancelled per I/O operation.
// - An async handler's responder owns the request; the session keeps itself alive (pending_self_)
//   until the response arrives or Stop() gives up on it, so the request reference handed to the
//   handler never dangles.
#include "server/http_server.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "server/metrics.h"
#include "server/url.h"

#ifndef KEFU_VERSION
#define KEFU_VERSION "unknown"
#endif

namespace kefu::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();
constexpr std::chrono::milliseconds kMaxLinger{2000};
constexpr std::size_t kUnmatchedRoute = std::numeric_limits<std::size_t>::max();
constexpr std::string_view kUnmatchedLabel = "unmatched";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

int64_t DeadlineAfter(std::chrono::milliseconds d) {
  return NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

enum class Reason {
  kBodyLimit,
  kHeaderLimit,
  kBadRequest,
  kReadTimeout,
  kMaxConnections,
  kUnauthenticated,
  kForbidden,
};
constexpr std::array<const char*, 7> kReasonNames = {
    "body_limit",      "header_limit",    "bad_request", "read_timeout",
    "max_connections", "unauthenticated", "forbidden"};

// A fixed label per method keeps the metric's cardinality bounded whatever clients send.
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown = {
      "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"};
  for (std::string_view m : kKnown) {
    if (m == method) return m;
  }
  return "other";
}

class ServerMetrics {
 public:
  explicit ServerMetrics(prometheus::Registry& registry)
      : requests_(prometheus::BuildCounter()
                      .Name("kefu_http_requests_total")
                      .Help("HTTP requests answered, by route pattern, method and status")
                      .Register(registry)),
        durations_(prometheus::BuildHistogram()
                       .Name("kefu_http_request_duration_seconds")
                       .Help("Time from the first byte of a request to its response being ready")
                       .Register(registry)),
        connections_(prometheus::BuildGauge()
                         .Name("kefu_http_connections_active")
                         .Help("Open HTTP connections")
                         .Register(registry)
                         .Add({})) {
    auto& rejected = prometheus::BuildCounter()
                         .Name("kefu_http_rejected_total")
                         .Help("Requests or connections refused at the edge, by reason")
                         .Register(registry);
    for (std::size_t i = 0; i < kReasonNames.size(); ++i) {
      rejected_[i] = &rejected.Add({{"reason", kReasonNames[i]}});
    }
  }

  // Resolves one histogram per route up front so the request path does no label lookup.
  void PrepareRoutes(const Router& router) {
    for (const auto& route : router.routes()) {
      route_durations_.push_back(&durations_.Add({{"route", route->pattern}}, Buckets()));
    }
    unmatched_duration_ = &durations_.Add({{"route", std::string(kUnmatchedLabel)}}, Buckets());
  }

  prometheus::Histogram& Duration(const Route* route) {
    return route == nullptr ? *unmatched_duration_ : *route_durations_[route->index];
  }

  prometheus::Counter& Requests(const Route* route, std::string_view method, int status) {
    std::size_t index = route == nullptr ? kUnmatchedRoute : route->index;
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_tuple(index, method, status);
    auto it = requests_by_key_.find(key);
    if (it != requests_by_key_.end()) return *it->second;
    prometheus::Counter& c =
        requests_.Add({{"route", route == nullptr ? std::string(kUnmatchedLabel) : route->pattern},
                       {"method", std::string(method)},
                       {"status", std::to_string(status)}});
    requests_by_key_.emplace(key, &c);
    return c;
  }

  void Reject(Reason reason) { rejected_[static_cast<std::size_t>(reason)]->Increment(); }
  prometheus::Gauge& connections() { return connections_; }

 private:
  static prometheus::Histogram::BucketBoundaries Buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
            0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  }

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Gauge& connections_;
  std::array<prometheus::Counter*, kReasonNames.size()> rejected_{};
  std::vector<prometheus::Histogram*> route_durations_;  // by Route::index; set before Start
  prometheus::Histogram* unmatched_duration_ = nullptr;
  std::mutex mu_;  // guards requests_by_key_
  std::map<std::tuple<std::size_t, std::string_view, int>, prometheus::Counter*> requests_by_key_;
};

// Fills a kefu::HttpRequest directly from Beast's HTTP/1.1 parser callbacks.
class RequestParser final : public http::basic_parser<true> {
 public:
  explicit RequestParser(HttpRequest& request) : request_(request) {}

  int version() const { return version_; }
  bool expects_continue() const { return expects_continue_; }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    request_.method.assign(method);
    request_.target.assign(target);
    version_ = version;
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code&) override {
    if (name == http::field::expect && beast::iequals(value, "100-continue")) {
      expects_continue_ = true;
    }
    auto [it, inserted] = request_.headers.emplace(std::string(name_string), std::string(value));
    if (!inserted) it->second.append(", ").append(value);
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code&) override {
    // Bounded: the parser has already refused a length above body_limit.
    if (content_length) request_.body.reserve(static_cast<std::size_t>(*content_length));
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    request_.body.append(body);
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    request_.body.append(body);
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  HttpRequest& request_;
  int version_ = 11;
  bool expects_continue_ = false;
};

bool IsSafeHeaderText(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool IsServerManagedHeader(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection") || beast::iequals(name, "content-type");
}

void AppendNumber(std::string& out, std::size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

// Serialises the status line and header fields of `response`.
void AppendHead(std::string& out, const HttpResponse& response, bool close, bool http10) {
  out += "HTTP/1.1 ";
  AppendNumber(out, static_cast<std::size_t>(response.status));
  out += ' ';
  std::string_view reason = http::obsolete_reason(static_cast<http::status>(response.status));
  out += reason == "<unknown-status>" ? std::string_view("Unknown") : reason;
  out += "\r\n";
  bool has_body = response.status >= 200 && response.status != 204 && response.status != 304;
  if (has_body) {
    if (!response.content_type.empty() && IsSafeHeaderText(response.content_type)) {
      out += "Content-Type: ";
      out += response.content_type;
      out += "\r\n";
    }
    out += "Content-Length: ";
    AppendNumber(out, response.body.size());
    out += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !IsSafeHeaderText(name) || !IsSafeHeaderText(value) ||
        name.find(':') != std::string::npos || IsServerManagedHeader(name)) {
      spdlog::warn("http dropping response header name_length={}", name.size());
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (close) {
    out += "Connection: close\r\n";
  } else if (http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

class Session;

// State shared by the server and its sessions; sessions may outlive the server object briefly
// (a responder still held by a worker), hence the shared ownership.
struct Shared {
  Shared(ServerOptions o, const Router& r, Authenticator* a, prometheus::Registry& registry)
      : options(std::move(o)), router(r), authenticator(a), metrics(registry) {}

  const ServerOptions options;
  const Router& router;
  Authenticator* const authenticator;
  ServerMetrics metrics;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> requests_in_progress{0};

  std::mutex mu;  // guards sessions
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::condition_variable drained;  // notified when `sessions` becomes empty

  // Responders post under a shared lock; Stop flips accepting_posts under the exclusive lock,
  // so no post can reach the io_context after its threads are gone.
  std::shared_mutex post_mu;    // guards accepting_posts
  bool accepting_posts = true;  // false once the io_context threads are gone
};

// Owned by an async handler's responder(s): the request and the exactly-once guard.
struct ResponderState {
  ResponderState(std::weak_ptr<Session> s, std::shared_ptr<Shared> sh, uint64_t q)
      : session(std::move(s)), shared(std::move(sh)), seq(q) {}
  ~ResponderState() {
    if (!done.load()) {
      Send(HttpResponse::Error(500, "internal", "the handler dropped the request"));
    }
  }
  void Send(HttpResponse response);

  std::weak_ptr<Session> session;
  std::shared_ptr<Shared> shared;
  const uint64_t seq;
  std::atomic<bool> done{false};
  HttpRequest request;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)), shared_(std::move(shared)) {}

  ~Session() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->sessions.erase(this);
    if (shared_->sessions.empty()) shared_->drained.notify_all();
  }

  net::any_io_executor executor() { return socket_.get_executor(); }
  int64_t deadline_ns() const { return deadline_ns_.load(std::memory_order_relaxed); }

  // On the strand, once.
  void Start() {
    shared_->metrics.connections().Increment();
    beast::error_code ec;
    tcp::endpoint remote = socket_.remote_endpoint(ec);
    if (!ec) remote_ = remote.address().to_string();
    SetDeadline(shared_->options.idle_timeout);
    DoRead();
    if (shared_->stopping.load()) Shutdown();
  }

  // Stop() began: close now if no request is in progress, else after its response. Bytes
  // already in the socket buffer are a request that began before Stop, so they are served.
  // Cancelling (rather than closing) lets a read that already took bytes complete normally;
  // a read that got nothing completes with operation_aborted and closes the session.
  void Shutdown() {
    if (state_ != State::kIdle) return;
    beast::error_code ec;
    if (socket_.available(ec) > 0 && !ec) return;
    socket_.cancel(ec);
  }

  // The drain time is over.
  void ForceClose() {
    Close();
    pending_self_.reset();
  }

  // After the io_context threads are joined: nothing else touches the session any more.
  void ReleaseAfterStop() {
    beast::error_code ec;
    socket_.close(ec);
    state_ = State::kClosed;
    pending_self_.reset();
  }

  void CheckDeadline() {
    if (state_ == State::kClosed || NowNs() < deadline_ns()) return;
    if (state_ == State::kReading) {
      shared_->metrics.Reject(Reason::kReadTimeout);
      spdlog::debug("http read timeout remote={}", remote_);
    }
    Close();
  }

  // Any thread (via ResponderState::Send under Shared::post_mu).
  void PostResponse(uint64_t seq, HttpResponse response) {
    net::post(socket_.get_executor(),
              [self = shared_from_this(), seq, response = std::move(response)]() mutable {
                self->OnAsyncResponse(seq, std::move(response));
              });
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kLingering, kClosed };

  void SetDeadline(std::chrono::milliseconds d) {
    deadline_ns_.store(DeadlineAfter(d), std::memory_order_relaxed);
  }
  void ClearDeadline() { deadline_ns_.store(kNoDeadline, std::memory_order_relaxed); }

  void DoRead() {
    socket_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(beast::error_code ec, std::size_t n) {
    if (state_ == State::kClosed) return;
    if (ec) return Close();  // peer closed or reset; a partial request is simply dropped
    buffer_.commit(n);
    if (state_ == State::kLingering) {
      buffer_.clear();
      return DoRead();
    }
    if (state_ == State::kIdle) BeginRequest();
    Parse();
  }

  void BeginRequest() {
    state_ = State::kReading;
    if (!in_progress_) {
      in_progress_ = true;
      shared_->requests_in_progress.fetch_add(1);
    }
    started_ns_ = NowNs();
    SetDeadline(shared_->options.read_timeout);
    request_ = HttpRequest();
    route_ = nullptr;
    continue_sent_ = false;
    parser_.emplace(request_);
    parser_->eager(true);
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(shared_->options.header_limit, UINT32_MAX)));
  }

  void Parse() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) return OnParseError(ec);
      if (used == 0) break;
    }
    if (parser_->is_done()) return Dispatch();
    if (parser_->is_header_done() && parser_->expects_continue() && !continue_sent_) {
      return SendContinue();
    }
    DoRead();
  }

  void OnParseError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Reject(
          Reason::kBodyLimit, 413, "payload_too_large",
          "request body exceeds " + std::to_string(shared_->options.body_limit) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return Reject(
          Reason::kHeaderLimit, 431, "header_too_large",
          "request header exceeds " + std::to_string(shared_->options.header_limit) + " bytes");
    }
    Reject(Reason::kBadRequest, 400, "bad_request", "malformed HTTP request: " + ec.message());
  }

  void SendContinue() {
    continue_sent_ = true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (self->state_ == State::kClosed) return;
                       if (ec) return self->Close();
                       self->DoRead();
                     });
  }

  // Answers with an error and closes: the stream cannot be trusted to find the next request.
  void Reject(Reason reason, int status, std::string_view code, std::string message) {
    shared_->metrics.Reject(reason);
    spdlog::debug("http rejected reason={} remote={}", kReasonNames[static_cast<int>(reason)],
                  remote_);
    close_after_write_ = true;
    linger_ = true;
    keep_alive_ = false;
    Respond(HttpResponse::Error(status, code, message));
  }

  void Dispatch() {
    ClearDeadline();
    state_ = State::kHandling;
    keep_alive_ = parser_->keep_alive();
    http10_ = parser_->version() < 11;
    head_request_ = request_.method == "HEAD";
    method_label_ = MethodLabel(request_.method);

    std::string_view target = request_.target;
    std::size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    RouteMatch match = shared_->router.Match(request_.method, raw_path);
    if (match.kind == RouteMatch::Kind::kBadPath) {
      return Respond(HttpResponse::Error(400, "invalid_argument", "bad request path"));
    }
    Result<std::string> path = PercentDecode(raw_path);
    if (!path.ok()) {
      return Respond(HttpResponse::Error(400, "invalid_argument", "bad request path"));
    }
    request_.path = std::move(path).value();
    if (q != std::string_view::npos) {
      Result<std::map<std::string, std::string>> query = ParseQuery(target.substr(q + 1));
      if (!query.ok()) {
        return Respond(HttpResponse::Error(400, "invalid_argument", "bad query string"));
      }
      request_.query = std::move(query).value();
    }
    request_.remote_address = remote_;

    if (match.kind == RouteMatch::Kind::kNotFound) {
      return Respond(HttpResponse::Error(404, "not_found", "no route for " + request_.path));
    }
    if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
      HttpResponse r = HttpResponse::Error(405, "method_not_allowed",
                                           request_.method + " not allowed on " + request_.path);
      r.headers.emplace("Allow", std::move(match.allow));
      return Respond(std::move(r));
    }
    route_ = match.route;
    for (auto& [name, value] : match.params) {
      request_.path_params.emplace(std::move(name), std::move(value));
    }
    if (route_->authenticated && !Authenticate()) return;

    if (route_->sync_handler) {
      HttpResponse response;
      try {
        response = route_->sync_handler(request_);
      } catch (const std::exception& e) {
        spdlog::error("http handler threw route={} error={}", route_->pattern, e.what());
        response = HttpResponse::Error(500, "internal", "internal error");
      }
      return Respond(std::move(response));
    }

    auto state = std::make_shared<ResponderState>(weak_from_this(), shared_, ++seq_);
    state->request = std::move(request_);
    pending_self_ = shared_from_this();
    HttpResponder responder = [state](HttpResponse r) { state->Send(std::move(r)); };
    try {
      route_->handler(state->request, std::move(responder));
    } catch (const std::exception& e) {
      // The responder copies destroyed by the unwinding answer 500 unless one was kept.
      spdlog::error("http handler threw route={} error={}", route_->pattern, e.what());
    }
  }

  // Checks the bearer token; on failure answers and returns false.
  bool Authenticate() {
    std::optional<std::string_view> header = request_.Header("Authorization");
    std::string_view token;
    if (header && header->size() > 7 && beast::iequals(header->substr(0, 7), "Bearer ")) {
      token = header->substr(7);
      while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ')
        token.remove_suffix(1);
    }
    if (token.empty()) {
      Unauthenticated("missing bearer token", "Bearer");
      return false;
    }
    Result<Principal> principal = Internal("no authenticator");
    if (shared_->authenticator != nullptr) {
      try {
        principal = shared_->authenticator->Authenticate(token);
      } catch (const std::exception& e) {
        spdlog::error("http authenticator threw error={}", e.what());
      }
    }
    if (!principal.ok()) {
      StatusCode code = principal.status().code();
      if (code == StatusCode::kUnauthenticated || code == StatusCode::kNotFound ||
          code == StatusCode::kPermissionDenied) {
        Unauthenticated("invalid bearer token", "Bearer error=\"invalid_token\"");
      } else {
        spdlog::warn("http authentication failed status={}", principal.status().ToString());
        Respond(HttpResponse::Error(HttpStatusFor(code), StatusCodeName(code),
                                    "authentication is unavailable"));
      }
      return false;
    }
    if (!RoleSatisfies(principal->role, route_->role)) {
      shared_->metrics.Reject(Reason::kForbidden);
      Respond(HttpResponse::Error(403, "permission_denied",
                                  "this route requires role " + route_->role));
      return false;
    }
    SetPrincipal(request_, *principal);
    return true;
  }

  void Unauthenticated(std::string_view message, std::string challenge) {
    shared_->metrics.Reject(Reason::kUnauthenticated);
    HttpResponse r = HttpResponse::Error(401, "unauthenticated", message);
    r.headers.emplace("WWW-Authenticate", std::move(challenge));
    Respond(std::move(r));
  }

  void OnAsyncResponse(uint64_t seq, HttpResponse response) {
    if (state_ != State::kHandling || seq != seq_) return;
    pending_self_.reset();  // the posted handler still holds a reference
    Respond(std::move(response));
  }

  void Respond(HttpResponse response) {
    if (response.status < 100 || response.status > 999) {
      spdlog::error("http handler returned invalid status={}", response.status);
      response = HttpResponse::Error(500, "internal", "internal error");
    }
    int64_t elapsed_ns = NowNs() - started_ns_;
    shared_->metrics.Duration(route_).Observe(static_cast<double>(elapsed_ns) * 1e-9);
    if (cached_counter_ == nullptr || cached_route_ != route_ || cached_method_ != method_label_ ||
        cached_status_ != response.status) {
      cached_counter_ = &shared_->metrics.Requests(route_, method_label_, response.status);
      cached_route_ = route_;
      cached_method_ = method_label_;
      cached_status_ = response.status;
    }
    cached_counter_->Increment();
    spdlog::debug("http request method={} route={} status={} duration_us={} remote={}",
                  method_label_, route_ == nullptr ? kUnmatchedLabel : route_->pattern,
                  response.status, elapsed_ns / 1000, remote_);

    bool close = close_after_write_ || !keep_alive_ || shared_->stopping.load();
    close_after_write_ = close;
    out_head_.clear();
    AppendHead(out_head_, response, close, http10_);
    bool has_body = !head_request_ && response.status >= 200 && response.status != 204 &&
                    response.status != 304;
    out_body_ = has_body ? std::move(response.body) : std::string();

    state_ = State::kWriting;
    SetDeadline(shared_->options.write_timeout);
    std::array<net::const_buffer, 2> buffers = {net::buffer(out_head_), net::buffer(out_body_)};
    net::async_write(
        socket_, buffers,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnWrite(ec); });
  }

  void EndRequest() {
    if (!in_progress_) return;
    in_progress_ = false;
    shared_->requests_in_progress.fetch_sub(1);
  }

  void OnWrite(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    EndRequest();
    if (ec) return Close();
    if (close_after_write_ || shared_->stopping.load()) {
      return linger_ ? Linger() : Close();
    }
    state_ = State::kIdle;
    if (buffer_.size() > 0) {  // a pipelined request is already here
      BeginRequest();
      return Parse();
    }
    SetDeadline(shared_->options.idle_timeout);
    DoRead();
  }

  // After a rejection: stop sending, drain what the client still sends for a short while so the
  // error response is not destroyed by a TCP reset, then close.
  void Linger() {
    state_ = State::kLingering;
    SetDeadline(std::min(shared_->options.read_timeout, kMaxLinger));
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    DoRead();
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    EndRequest();
    ClearDeadline();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    shared_->metrics.connections().Decrement();
  }

  tcp::socket socket_;
  std::shared_ptr<Shared> shared_;
  std::string remote_;
  std::atomic<int64_t> deadline_ns_{kNoDeadline};

  // Everything below is touched only on the session's strand.
  State state_ = State::kIdle;
  beast::flat_buffer buffer_;
  HttpRequest request_;
  std::optional<RequestParser> parser_;
  int64_t started_ns_ = 0;
  const Route* route_ = nullptr;
  std::string_view method_label_;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_request_ = false;
  bool continue_sent_ = false;
  bool close_after_write_ = false;
  bool linger_ = false;
  bool in_progress_ = false;               // counted in Shared::requests_in_progress
  uint64_t seq_ = 0;                       // numbers async requests; stale responses are dropped
  std::shared_ptr<Session> pending_self_;  // set while an async handler owes a response
  std::string out_head_;
  std::string out_body_;
  prometheus::Counter* cached_counter_ = nullptr;
  const Route* cached_route_ = nullptr;
  std::string_view cached_method_;
  int cached_status_ = 0;
};

void ResponderState::Send(HttpResponse response) {
  if (done.exchange(true)) {
    spdlog::error("http responder called more than once; the extra response is dropped");
    return;
  }
  std::shared_lock<std::shared_mutex> lock(shared->post_mu);
  if (!shared->accepting_posts) return;
  if (auto s = session.lock()) s->PostResponse(seq, std::move(response));
}

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("server.listen: expected host:port, got \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  std::string port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return InvalidArgument("server.listen: bad port \"" + port_text + "\"");
  }
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code addr_ec;
  net::ip::address address = net::ip::make_address(host, addr_ec);
  if (addr_ec) {
    return InvalidArgument("server.listen: host must be an IP address or localhost, got \"" + host +
                           "\"");
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

std::chrono::milliseconds SweepInterval(const ServerOptions& o) {
  auto shortest = std::min({o.read_timeout, o.idle_timeout, o.write_timeout});
  return std::clamp(shortest / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions options, Router& router, prometheus::Registry& registry,
       Authenticator* authenticator)
      : shared(std::make_shared<Shared>(std::move(options), router, authenticator, registry)),
        ioc(std::max(1, shared->options.threads)),
        acceptor(net::make_strand(ioc)),
        sweep_timer(net::make_strand(ioc)),
        work(net::make_work_guard(ioc)) {}

  std::vector<std::shared_ptr<Session>> Snapshot() {
    std::vector<std::shared_ptr<Session>> out;
    std::lock_guard<std::mutex> lock(shared->mu);
    out.reserve(shared->sessions.size());
    for (auto& [ptr, weak] : shared->sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  void DoAccept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      OnAccept(ec, std::move(s));
    });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (!ec) AddSession(std::move(socket));  // even when Stop closed the acceptor meanwhile
    if (!acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors and similar: wait a little instead of spinning on accept.
      spdlog::warn("http accept failed error={}", ec.message());
      accept_backoff.expires_after(std::chrono::milliseconds(50));
      accept_backoff.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) DoAccept();
      });
      return;
    }
    DoAccept();
  }

  // On the acceptor's strand.
  void AddSession(tcp::socket socket) {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::shared_ptr<Session> session;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      if (shared->sessions.size() < shared->options.max_connections) {
        session = std::make_shared<Session>(std::move(socket), shared);
        shared->sessions.emplace(session.get(), session);
      }
    }
    if (session) {
      net::dispatch(session->executor(), [session] { session->Start(); });
    } else {
      shared->metrics.Reject(Reason::kMaxConnections);
      socket.close(ignored);
    }
  }

  void ScheduleSweep() {
    sweep_timer.expires_after(sweep_interval);
    sweep_timer.async_wait([this](beast::error_code ec) {
      if (ec || sweep_stopped.load()) return;
      int64_t now = NowNs();
      std::vector<std::shared_ptr<Session>> due;
      {
        std::lock_guard<std::mutex> lock(shared->mu);
        for (auto& [ptr, weak] : shared->sessions) {
          if (ptr->deadline_ns() > now) continue;
          if (auto s = weak.lock()) due.push_back(std::move(s));
        }
      }
      for (auto& s : due) {
        net::post(s->executor(), [s] { s->CheckDeadline(); });
      }
      due.clear();
      ScheduleSweep();
    });
  }

  void RunThread() {
    while (true) {
      try {
        ioc.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("http io thread caught error={}", e.what());
      }
    }
    std::lock_guard<std::mutex> lock(exit_mu);
    ++threads_exited;
    exit_cv.notify_all();
  }

  std::shared_ptr<Shared> shared;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer sweep_timer;
  net::steady_timer accept_backoff{acceptor.get_executor()};
  net::executor_work_guard<net::io_context::executor_type> work;
  std::chrono::milliseconds sweep_interval{250};
  std::atomic<bool> sweep_stopped{false};
  std::vector<std::thread> threads;
  std::mutex exit_mu;  // guards threads_exited
  std::condition_variable exit_cv;
  int threads_exited = 0;
  bool started = false;
  bool stopped = false;
  uint16_t port = 0;
};

HttpServer::HttpServer(ServerOptions options, Router& router, prometheus::Registry& registry,
                       Authenticator* authenticator)
    : impl_(std::make_unique<Impl>(std::move(options), router, registry, authenticator)) {
  RegisterBuildInfo(registry, KEFU_VERSION);
}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
}

Status HttpServer::Start() {
  Impl& m = *impl_;
  if (m.started) return FailedPrecondition("http server already started");
  const ServerOptions& options = m.shared->options;
  KEFU_RETURN_IF_ERROR(Validate(options));
  KEFU_RETURN_IF_ERROR(m.shared->router.status());
  if (m.shared->authenticator == nullptr) {
    for (const auto& route : m.shared->router.routes()) {
      if (route->authenticated) {
        return FailedPrecondition("route " + route->method + " " + route->pattern +
                                  " requires authentication but the server has no authenticator");
      }
    }
  }
  KEFU_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(options.listen));

  beast::error_code ec;
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    return Unavailable("server.listen " + options.listen + ": " + ec.message());
  }
  m.port = m.acceptor.local_endpoint(ec).port();
  m.started = true;

  m.shared->metrics.PrepareRoutes(m.shared->router);
  m.sweep_interval = SweepInterval(options);
  m.DoAccept();
  m.ScheduleSweep();
  for (int i = 0; i < options.threads; ++i) {
    m.threads.emplace_back([&m] { m.RunThread(); });
  }
  spdlog::info("http server listening address={} port={} threads={}",
               endpoint.address().to_string(), m.port, options.threads);
  return Status::Ok();
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

bool HttpServer::stopping() const {
  return impl_->shared->stopping.load();
}

std::size_t HttpServer::requests_in_progress() const {
  return impl_->shared->requests_in_progress.load();
}

std::size_t HttpServer::active_connections() const {
  std::lock_guard<std::mutex> lock(impl_->shared->mu);
  return impl_->shared->sessions.size();
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  Impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  auto drain_deadline = SteadyClock::now() + drain;
  m.shared->stopping.store(true);
  spdlog::info("http server stopping drain_ms={}", drain.count());

  std::promise<void> acceptor_closed;
  net::post(m.acceptor.get_executor(), [&m, &acceptor_closed] {
    // Connections the kernel completed before Stop may already carry a request: take them so
    // Session::Shutdown can decide, instead of resetting them by closing the listen socket.
    beast::error_code ec;
    m.acceptor.non_blocking(true, ec);
    while (!ec) {
      tcp::socket socket(net::make_strand(m.ioc));
      m.acceptor.accept(socket, ec);
      if (!ec) m.AddSession(std::move(socket));
    }
    m.acceptor.close(ec);
    m.accept_backoff.cancel();
    acceptor_closed.set_value();
  });
  acceptor_closed.get_future().wait();
  for (auto& s : m.Snapshot()) {
    net::post(s->executor(), [s] { s->Shutdown(); });
  }
  {
    std::unique_lock<std::mutex> lock(m.shared->mu);
    m.shared->drained.wait_until(lock, drain_deadline, [&m] { return m.shared->sessions.empty(); });
  }
  std::size_t left = 0;
  for (auto& s : m.Snapshot()) {
    ++left;
    net::post(s->executor(), [s] { s->ForceClose(); });
  }
  if (left > 0) spdlog::warn("http server drain timed out connections_closed={}", left);
  m.sweep_stopped.store(true);
  net::post(m.sweep_timer.get_executor(), [&m] { m.sweep_timer.cancel(); });
  m.work.reset();
  {
    // Everything left is closed, so the threads run out of work at once; a bounded wait
    // guards against a handler that never returns.
    std::unique_lock<std::mutex> lock(m.exit_mu);
    if (!m.exit_cv.wait_for(lock, std::chrono::seconds(2), [&m] {
          return m.threads_exited == static_cast<int>(m.threads.size());
        })) {
      m.ioc.stop();
    }
  }
  for (auto& t : m.threads)
    t.join();
  {
    std::unique_lock<std::shared_mutex> lock(m.shared->post_mu);
    m.shared->accepting_posts = false;
  }
  for (auto& s : m.Snapshot())
    s->ReleaseAfterStop();
  spdlog::info("http server stopped");
}

}  // namespace kefu::server
