// Drives a real HttpServer on 127.0.0.1:0 with raw sockets and Beast's response parser.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/metrics.h"

namespace kefu::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string ErrorCode() const {
    return nlohmann::json::parse(body).at("error").at("code").get<std::string>();
  }
};

// A blocking-style client whose every wait is bounded (an unanswered read fails the test
// instead of hanging it).
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  void Send(std::string_view raw) { net::write(socket_, net::buffer(raw.data(), raw.size())); }

  // Reads one response; `head_response` tells the parser that no body follows (HEAD).
  std::optional<Reply> Read(std::chrono::milliseconds timeout = 5s, bool head_response = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head_response);
    beast::error_code result = net::error::would_block;
    http::async_read(socket_, buffer_, parser,
                     [&](beast::error_code ec, std::size_t) { result = ec; });
    if (!RunFor(timeout)) {
      ADD_FAILURE() << "no response within the timeout";
      return std::nullopt;
    }
    if (result) return std::nullopt;
    Reply reply;
    auto& msg = parser.get();
    reply.status = msg.result_int();
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    reply.body = msg.body();
    return reply;
  }

  std::optional<Reply> Roundtrip(std::string_view raw) {
    Send(raw);
    return Read();
  }

  // True when the server closes the connection (EOF or reset) within `timeout`; bytes that
  // arrive first are skipped.
  bool WaitForClose(std::chrono::milliseconds timeout = 5s) {
    bool closed = false;
    std::function<void()> read_more;
    std::array<char, 4096> scratch;
    read_more = [&] {
      socket_.async_read_some(net::buffer(scratch), [&](beast::error_code ec, std::size_t) {
        if (ec) {
          closed = true;
          return;
        }
        read_more();
      });
    };
    if (buffer_.size() > 0) buffer_.clear();
    read_more();
    if (!RunFor(timeout)) return false;
    return closed;
  }

 private:
  bool RunFor(std::chrono::milliseconds timeout) {
    ioc_.restart();
    ioc_.run_for(timeout);
    if (ioc_.stopped()) return true;
    beast::error_code ignored;
    socket_.cancel(ignored);
    ioc_.restart();
    ioc_.run();
    return false;
  }

  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string Post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = "") {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

class FakeAuthenticator : public Authenticator {
 public:
  Result<Principal> Authenticate(std::string_view token) override {
    ++calls;
    if (token == "agent-token") return Principal{"alice", "agent"};
    if (token == "admin-token") return Principal{"root", "admin"};
    if (token == "broken") return Unavailable("token store down");
    return Unauthenticated("unknown token");
  }
  std::atomic<int> calls{0};
};

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    options_.listen = "127.0.0.1:0";
    options_.threads = 2;
    router_.AddSync("GET", "/echo/{id}", [](HttpRequest& req) {
      nlohmann::json j = {{"id", req.path_params.at("id")},
                          {"path", req.path},
                          {"query", req.query},
                          {"remote", req.remote_address},
                          {"agent", std::string(req.Header("x-agent").value_or(""))}};
      return HttpResponse::Json(200, j.dump());
    });
    router_.AddSync("POST", "/echo",
                    [](HttpRequest& req) { return HttpResponse::Text(200, req.body); });
    router_.AddSync("GET", "/throws",
                    [](HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    router_.AddSync("GET", "/api/v1/me", [](HttpRequest& req) {
      auto p = PrincipalOf(req);
      return HttpResponse::Json(
          200, nlohmann::json{{"subject", p ? p->subject : ""}, {"role", p ? p->role : ""}}.dump());
    });
    router_.AddSync(
        "DELETE", "/api/v1/things/{id}", [](HttpRequest&) { return HttpResponse::Json(204, ""); },
        RouteOptions::Role("supervisor"));
    router_.Add("GET", "/async", [this](HttpRequest& req, HttpResponder respond) {
      std::string who(req.Query("who").value_or("nobody"));
      std::lock_guard<std::mutex> lock(workers_mu_);
      workers_.emplace_back([respond, who] { respond(HttpResponse::Text(200, "hello " + who)); });
    });
    router_.Add("GET", "/dropped", [](HttpRequest&, HttpResponder) {});
    router_.Add("GET", "/twice", [](HttpRequest&, HttpResponder respond) {
      respond(HttpResponse::Text(200, "first"));
      respond(HttpResponse::Text(200, "second"));
    });
    router_.Add("POST", "/held", [this](HttpRequest& req, HttpResponder respond) {
      held_body_ = req.body;
      held_.set_value(std::move(respond));
    });
  }

  ~HttpServerTest() override {
    if (server_) server_->Stop(1s);
    std::lock_guard<std::mutex> lock(workers_mu_);
    for (auto& t : workers_)
      t.join();
  }

  void StartServer() {
    server_ = std::make_unique<HttpServer>(options_, router_, registry_, &auth_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  std::string Metrics() { return MetricsResponse(registry_).body; }

  ServerOptions options_;
  Router router_;
  prometheus::Registry registry_;
  FakeAuthenticator auth_;
  std::unique_ptr<HttpServer> server_;
  std::mutex workers_mu_;
  std::vector<std::thread> workers_;  // guarded by workers_mu_
  std::promise<HttpResponder> held_;
  std::string held_body_;
};

TEST_F(HttpServerTest, RoutesWithPathParamDecodedPathQueryHeadersAndRemoteAddress) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/echo/%E5%AE%A2%E6%9C%8D?q=%E9%80%80%E6%AC%BE+%E6%94%BF%E7%AD%96&n=1",
                           "X-Agent: bob\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "application/json; charset=utf-8");
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["id"], "客服");
  EXPECT_EQ(j["path"], "/echo/客服");
  EXPECT_EQ(j["query"]["q"], "退款 政策");
  EXPECT_EQ(j["query"]["n"], "1");
  EXPECT_EQ(j["agent"], "bob");
  EXPECT_EQ(j["remote"], "127.0.0.1");
}

TEST_F(HttpServerTest, UnknownPathIs404JsonAndWrongMethodIs405WithAllow) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/nope"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->ErrorCode(), "not_found");
  r = c.Roundtrip(Post("/echo/1", "x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->ErrorCode(), "method_not_allowed");
  EXPECT_EQ(r->Header("allow"), "GET");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Client c(server_->port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.Roundtrip(Post("/echo", "body " + std::to_string(i)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "body " + std::to_string(i));
    EXPECT_EQ(r->Header("connection"), "");
  }
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client c(server_->port());
  c.Send(Post("/echo", "first") + Get("/async?who=second") + Post("/echo", "third"));
  auto a = c.Read();
  auto b = c.Read();
  auto d = c.Read();
  ASSERT_TRUE(a && b && d);
  EXPECT_EQ(a->body, "first");
  EXPECT_EQ(b->body, "hello second");
  EXPECT_EQ(d->body, "third");
}

TEST_F(HttpServerTest, ChunkedRequestBodyIsReassembled) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello world");
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer();
  Client c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  c.Send("data");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "data");
}

TEST_F(HttpServerTest, HeadAnswersLikeGetWithoutBody) {
  StartServer();
  Client c(server_->port());
  auto get = c.Roundtrip(Get("/echo/1"));
  ASSERT_TRUE(get);
  c.Send("HEAD /echo/1 HTTP/1.1\r\nHost: t\r\n\r\n");
  auto head = c.Read(5s, /*head_response=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), std::to_string(get->body.size()));
  EXPECT_EQ(head->body, "");
  // Had the server sent body bytes after the HEAD response, they would be parsed as the next
  // response and fail here.
  auto next = c.Roundtrip(Get("/echo/2"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpServerTest, OversizedBodyIs413JsonCountedAndClosed) {
  options_.body_limit = 1024;
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Post("/echo", std::string(4096, 'x')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->ErrorCode(), "payload_too_large");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_NE(Metrics().find("kefu_http_rejected_total{reason=\"body_limit\"} 1"), std::string::npos);
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413) {
  options_.body_limit = 8;
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\n0123456789abcdef\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpServerTest, OversizedHeaderIs431AndCounted) {
  options_.header_limit = 1024;
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/echo/1", "X-Big: " + std::string(4096, 'a') + "\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_NE(Metrics().find("kefu_http_rejected_total{reason=\"header_limit\"} 1"),
            std::string::npos);
}

TEST_F(HttpServerTest, GarbageBytesGet400AndTheConnectionIsClosed) {
  StartServer();
  Client c(server_->port());
  auto r =
      c.Roundtrip(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 27));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_NE(Metrics().find("kefu_http_rejected_total{reason=\"bad_request\"} 1"),
            std::string::npos);

  Client other(server_->port());
  auto ok = other.Roundtrip(Get("/echo/2"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, SlowlorisIsClosedAtReadTimeoutWhileOthersAreServed) {
  options_.read_timeout = 200ms;
  StartServer();
  Client slow(server_->port());
  auto begun = std::chrono::steady_clock::now();
  slow.Send("GET /echo/1 HTTP/1.1\r\nHost: t\r\nX-Slow: ");

  Client fast(server_->port());
  for (int i = 0; i < 3; ++i) {
    auto r = fast.Roundtrip(Get("/echo/" + std::to_string(i)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_TRUE(slow.WaitForClose(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - begun, 150ms);
  EXPECT_NE(Metrics().find("kefu_http_rejected_total{reason=\"read_timeout\"} 1"),
            std::string::npos);
  auto r = fast.Roundtrip(Get("/echo/9"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAtIdleTimeout) {
  options_.idle_timeout = 100ms;
  StartServer();
  Client c(server_->port());
  ASSERT_TRUE(c.Roundtrip(Get("/echo/1")));
  EXPECT_TRUE(c.WaitForClose(5s));
}

TEST_F(HttpServerTest, AsyncResponderCalledFromAnotherThreadAnswers) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/async?who=worker"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello worker");
  EXPECT_EQ(r->Header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(HttpServerTest, ResponderDroppedWithoutAnsweringGives500) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/dropped"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->ErrorCode(), "internal");
  auto again = c.Roundtrip(Get("/echo/1"));  // the connection is still usable
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(HttpServerTest, ResponderCalledTwiceSendsOnlyTheFirstResponse) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/twice"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "first");
  auto next = c.Roundtrip(Post("/echo", "next"));  // no stray second response in between
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "next");
}

TEST_F(HttpServerTest, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip("GET /echo/1 HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitForClose());
}

TEST_F(HttpServerTest, ConnectionCloseRequestIsHonoured) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/echo/1", "Connection: close\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.WaitForClose());
}

TEST_F(HttpServerTest, ThrowingSyncHandlerGives500) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/throws"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
}

TEST_F(HttpServerTest, ApiRouteWithoutTokenIs401WithBearerChallenge) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/api/v1/me"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->ErrorCode(), "unauthenticated");
  EXPECT_EQ(r->Header("www-authenticate").rfind("Bearer", 0), 0u);
  EXPECT_EQ(auth_.calls.load(), 0);

  r = c.Roundtrip(Get("/api/v1/me", "Authorization: Basic YWxpY2U6cHc=\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(HttpServerTest, WrongTokenIs401AndGoodTokenExposesPrincipal) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/api/v1/me", "Authorization: Bearer wrong\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->ErrorCode(), "unauthenticated");
  EXPECT_NE(r->Header("www-authenticate").find("invalid_token"), std::string::npos);

  r = c.Roundtrip(Get("/api/v1/me", "Authorization: bearer agent-token\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["subject"], "alice");
  EXPECT_EQ(j["role"], "agent");
  EXPECT_NE(Metrics().find("kefu_http_rejected_total{reason=\"unauthenticated\"} 1"),
            std::string::npos);
}

TEST_F(HttpServerTest, TooLowRoleIs403AndEnoughRolePasses) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(
      "DELETE /api/v1/things/1 HTTP/1.1\r\nHost: t\r\n"
      "Authorization: Bearer agent-token\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->ErrorCode(), "permission_denied");
  r = c.Roundtrip(
      "DELETE /api/v1/things/1 HTTP/1.1\r\nHost: t\r\n"
      "Authorization: Bearer admin-token\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
}

TEST_F(HttpServerTest, AuthenticatorFailureIsNotReportedAsBadToken) {
  StartServer();
  Client c(server_->port());
  auto r = c.Roundtrip(Get("/api/v1/me", "Authorization: Bearer broken\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
}

TEST_F(HttpServerTest, MetricsCountRequestsByRouteMethodStatus) {
  StartServer();
  Client c(server_->port());
  ASSERT_TRUE(c.Roundtrip(Get("/echo/1")));
  ASSERT_TRUE(c.Roundtrip(Get("/echo/2")));
  ASSERT_TRUE(c.Roundtrip(Get("/missing")));
  std::string text = Metrics();
  EXPECT_NE(
      text.find("kefu_http_requests_total{method=\"GET\",route=\"/echo/{id}\",status=\"200\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("kefu_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"),
      std::string::npos);
  EXPECT_NE(text.find("kefu_http_request_duration_seconds_count{route=\"/echo/{id}\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("kefu_build_info{version=\""), std::string::npos);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAreClosed) {
  options_.max_connections = 1;
  StartServer();
  Client first(server_->port());
  ASSERT_TRUE(first.Roundtrip(Get("/echo/1")));
  Client second(server_->port());
  EXPECT_TRUE(second.WaitForClose());
  EXPECT_NE(Metrics().find("kefu_http_rejected_total{reason=\"max_connections\"} 1"),
            std::string::npos);
  ASSERT_TRUE(first.Roundtrip(Get("/echo/2")));
}

TEST_F(HttpServerTest, StopLetsAnInFlightAsyncRequestFinish) {
  StartServer();
  Client c(server_->port());
  c.Send(Post("/held", "payload"));
  HttpResponder respond = held_.get_future().get();
  EXPECT_EQ(held_body_, "payload");

  std::thread stopper([this] { server_->Stop(10s); });
  while (!server_->stopping())
    std::this_thread::yield();
  respond(HttpResponse::Text(200, "done"));
  auto r = c.Read();
  stopper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->Header("connection"), "close");
}

TEST_F(HttpServerTest, StopCompletesARequestWhoseBodyIsStillArriving) {
  StartServer();
  Client c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello");
  while (server_->requests_in_progress() == 0)
    std::this_thread::yield();

  std::thread stopper([this] { server_->Stop(10s); });
  while (!server_->stopping())
    std::this_thread::yield();
  c.Send("world");
  auto r = c.Read();
  stopper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "helloworld");
}

TEST_F(HttpServerTest, StopServesARequestWhoseFirstBytesArrivedJustBeforeIt) {
  StartServer();
  Client c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab");
  std::thread stopper([this] { server_->Stop(10s); });
  while (!server_->stopping())
    std::this_thread::yield();
  c.Send("cd");
  auto r = c.Read();
  stopper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "abcd");
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnectionsAndRefusesNewOnes) {
  StartServer();
  uint16_t port = server_->port();
  Client c(port);
  ASSERT_TRUE(c.Roundtrip(Get("/echo/1")));
  server_->Stop(10s);
  EXPECT_TRUE(c.WaitForClose(1s));
  EXPECT_EQ(server_->active_connections(), 0u);
  EXPECT_THROW(Client late(port), boost::system::system_error);
}

TEST_F(HttpServerTest, StopGivesUpOnAHandlerThatNeverAnswersAfterDrain) {
  StartServer();
  Client c(server_->port());
  c.Send(Post("/held", "x"));
  HttpResponder respond = held_.get_future().get();
  server_->Stop(100ms);
  EXPECT_TRUE(c.WaitForClose(1s));
  respond(HttpResponse::Text(200, "too late"));  // must be a harmless no-op
}

TEST(HttpServer, StartFailsForAuthenticatedRouteWithoutAuthenticator) {
  Router router;
  router.AddSync("GET", "/api/v1/x", [](HttpRequest&) { return HttpResponse::Json(200, "{}"); });
  prometheus::Registry registry;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  HttpServer server(options, router, registry, nullptr);
  EXPECT_EQ(server.Start().code(), StatusCode::kFailedPrecondition);
}

TEST(HttpServer, StartFailsNamingTheKeyForBadListenOrBusyPort) {
  Router router;
  prometheus::Registry registry;
  ServerOptions options;
  options.listen = "not-an-address";
  HttpServer bad(options, router, registry, nullptr);
  Status s = bad.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("server.listen"), std::string::npos);

  options.listen = "127.0.0.1:0";
  HttpServer first(options, router, registry, nullptr);
  ASSERT_TRUE(first.Start().ok());
  options.listen = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second(options, router, registry, nullptr);
  s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("server.listen"), std::string::npos);
}

TEST(HttpServer, StartRejectsBadOptionsAndBadRoutes) {
  prometheus::Registry registry;
  Router router;
  ServerOptions options;
  options.threads = 0;
  HttpServer bad_threads(options, router, registry, nullptr);
  Status s = bad_threads.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("server.threads"), std::string::npos);

  Router bad_router;
  bad_router.AddSync("GET", "/x/{", [](HttpRequest&) { return HttpResponse::Json(200, "{}"); });
  ServerOptions ok_options;
  ok_options.listen = "127.0.0.1:0";
  HttpServer bad_routes(ok_options, bad_router, registry, nullptr);
  EXPECT_EQ(bad_routes.Start().code(), StatusCode::kInvalidArgument);
}

TEST(MetricsResponse, SerialisesTheRegistryAsPrometheusText) {
  prometheus::Registry registry;
  RegisterBuildInfo(registry, "1.2.3");
  RegisterBuildInfo(registry, "1.2.3");
  HttpResponse r = MetricsResponse(registry);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(r.body.find("# TYPE kefu_build_info gauge"), std::string::npos);
  EXPECT_NE(r.body.find("kefu_build_info{version=\"1.2.3\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace kefu::server
