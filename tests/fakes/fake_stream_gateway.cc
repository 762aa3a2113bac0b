#include "tests/fakes/fake_stream_gateway.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>

namespace kefu::fakes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct FakeStreamGateway::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

FakeStreamGateway::FakeStreamGateway() : impl_(std::make_unique<Impl>()) {}

FakeStreamGateway::~FakeStreamGateway() {
  Stop();
}

void FakeStreamGateway::Start() {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

void FakeStreamGateway::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  if (thread_.joinable()) thread_.join();
}

std::string FakeStreamGateway::endpoint() const {
  return "ws://127.0.0.1:" + std::to_string(port_) + "/stream";
}

void FakeStreamGateway::Push(std::string frame) {
  {
    std::lock_guard lock(mu_);
    frames_.push_back(std::move(frame));
  }
  cv_.notify_all();
}

std::vector<nlohmann::json> FakeStreamGateway::Acks() const {
  std::lock_guard lock(mu_);
  return acks_;
}

std::vector<std::string> FakeStreamGateway::Targets() const {
  std::lock_guard lock(mu_);
  return targets_;
}

int FakeStreamGateway::connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

int FakeStreamGateway::pings() const {
  std::lock_guard lock(mu_);
  return pings_;
}

bool FakeStreamGateway::WaitForAcks(size_t n, int timeout_ms) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return acks_.size() >= n; });
}

void FakeStreamGateway::Serve() {
  while (true) {
    tcp::socket socket(impl_->ioc);
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (ec) return;
    std::string inflight;  // written but not ACKed: goes to the next connection
    try {
      websocket::stream<tcp::socket> ws(std::move(socket));
      beast::flat_buffer buf;
      beast::http::request<beast::http::string_body> req;
      beast::http::read(ws.next_layer(), buf, req);
      {
        std::lock_guard lock(mu_);
        targets_.emplace_back(req.target());
        ++connections_;
      }
      ws.accept(req);
      ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
        if (kind != websocket::frame_type::ping) return;
        std::lock_guard lock(mu_);
        ++pings_;
      });
      while (true) {
        std::string frame;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [&] { return stopping_ || !frames_.empty(); });
          if (stopping_) return;
          frame = frames_.front();
          frames_.pop_front();
        }
        inflight = frame;
        ws.text(true);
        ws.write(asio::buffer(frame));
        beast::flat_buffer ack;
        ws.read(ack);
        {
          std::lock_guard lock(mu_);
          acks_.push_back(
              nlohmann::json::parse(beast::buffers_to_string(ack.data()), nullptr, false));
          inflight.clear();
        }
        cv_.notify_all();
      }
    } catch (const std::exception&) {
      // Client closed (e.g. after a disconnect frame): accept the next connection.
      std::lock_guard lock(mu_);
      if (!inflight.empty()) frames_.push_front(inflight);
      cv_.notify_all();
    }
  }
}

}  // namespace kefu::fakes
