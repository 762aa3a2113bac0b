// A real HTTP server on 127.0.0.1:<ephemeral> for tests: records every request and fails on cue
// (platform error codes, HTTP 5xx, delays beyond the client's timeout, dropped connections).
// Base of the fake WeCom and fake DingTalk servers. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace kefu::fakes {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One injected failure for the next matching call.
struct Fault {
  enum class Kind { kErrcode, kHttpStatus, kDelay, kDrop } kind = Kind::kErrcode;
  int code = 0;                        // errcode or HTTP status
  std::chrono::milliseconds delay{0};  // kDelay: sleep before answering normally
};

class FakeServer {
 public:
  FakeServer();
  virtual ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Binds 127.0.0.1:0 and serves on a background thread.
  void Start();
  void Stop();
  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Queues `count` faults for calls to `path`.
  void Inject(const std::string& path, Fault fault, int count = 1);
  // Requests received on `path` ("" = all), in arrival order. Faulted ones are recorded too.
  std::vector<RecordedRequest> Requests(const std::string& path = "") const;
  size_t Count(const std::string& path) const { return Requests(path).size(); }
  void ClearRequests();
  // Drops every queued fault.
  void ClearFaults();

 protected:
  using JsonHandler = std::function<nlohmann::json(const RecordedRequest&)>;
  // Registers a JSON route; the handler's result is the response body (HTTP 200) unless a fault
  // applies. For kErrcode faults the body is {"errcode": code, "errmsg": "injected"} (WeCom) or
  // whatever ErrorBody returns.
  void Route(const std::string& method, const std::string& path, JsonHandler handler);
  virtual nlohmann::json ErrorBody(int code) const;
  httplib::Server& server() { return *server_; }
  RecordedRequest Record(const httplib::Request& req);

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;            // guarded by mu_
  std::map<std::string, std::deque<Fault>> faults_;  // guarded by mu_
};

}  // namespace kefu::fakes
