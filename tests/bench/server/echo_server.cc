// The baseline for the HTTP benchmark: a bare Boost.Beast HTTP/1.1 server in the style of Beast's
// http_server_async example (one io_context on N threads, a strand per connection,
// beast::tcp_stream with a timeout, http::async_read / http::async_write, keep-alive). Every
// request gets a small 200 response with a fixed JSON body.
//
//   kefu_bench_echo_server [--port N] [--threads N]     prints "PORT <n>" once listening
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kBody = R"({"ok":true})";

void ExpiresAfter(beast::tcp_stream& stream, std::chrono::seconds d) {
  stream.expires_after(d);
}
void ExpiresAfter(tcp::socket&, std::chrono::seconds) {}
tcp::socket& Socket(beast::tcp_stream& stream) {
  return stream.socket();
}
tcp::socket& Socket(tcp::socket& socket) {
  return socket;
}

template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  explicit Session(tcp::socket socket) : stream_(std::move(socket)) {}

  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::DoRead, this->shared_from_this()));
  }

 private:
  void DoRead() {
    request_ = {};
    ExpiresAfter(stream_, std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_,
                     beast::bind_front_handler(&Session::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return DoClose();
    response_ = {};
    response_.result(http::status::ok);
    response_.version(request_.version());
    response_.set(http::field::content_type, "application/json; charset=utf-8");
    response_.keep_alive(request_.keep_alive());
    response_.body() = request_.method() == http::verb::post ? request_.body() : kBody;
    response_.prepare_payload();
    ExpiresAfter(stream_, std::chrono::seconds(30));
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    if (ec || !response_.keep_alive()) return DoClose();
    DoRead();
  }

  void DoClose() {
    beast::error_code ignored;
    Socket(stream_).shutdown(tcp::socket::shutdown_send, ignored);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, tcp::endpoint endpoint, bool timeouts)
      : ioc_(ioc), acceptor_(ioc), timeouts_(timeouts) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void Run() { DoAccept(); }

 private:
  void DoAccept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      if (timeouts_) {
        std::make_shared<Session<beast::tcp_stream>>(std::move(socket))->Run();
      } else {
        std::make_shared<Session<tcp::socket>>(std::move(socket))->Run();
      }
    }
    DoAccept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  bool timeouts_;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int threads = 2;
  bool timeouts = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--no-timeouts") == 0) timeouts = std::atoi(argv[i + 1]) == 0;
  }
  net::io_context ioc(threads);
  auto listener = std::make_shared<Listener>(
      ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)),
      timeouts);
  listener->Run();
  std::printf("PORT %u\n", static_cast<unsigned>(listener->port()));
  std::fflush(stdout);

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i)
    pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool)
    t.join();
  return 0;
}
