// Outbound HTTP(S) for platform APIs: a port (HttpClient), its cpp-httplib adapter, and the small
// thread pool blocking calls run on (never on the server's I/O threads).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/http.h"
#include "core/result.h"

namespace kefu::channels {

struct OutboundRequest {
  std::string method = "POST";
  std::string url;  // absolute: http(s)://host[:port]/path?query
  Headers headers;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds total_timeout{10000};
};

struct OutboundResponse {
  int status = 0;
  std::string body;
};

// Port. Send blocks the calling thread (call it from an HttpWorkerPool thread or the dispatcher).
// Errors: kInvalidArgument (bad URL), kDeadlineExceeded (timed out), kUnavailable (connection
// refused/reset/dropped). Any HTTP status, including 5xx, is a successful Result. Thread-safe.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<OutboundResponse> Send(const OutboundRequest& request) = 0;
};

// cpp-httplib + OpenSSL adapter. Verifies server certificates for https (system CA store).
class HttplibClient final : public HttpClient {
 public:
  Result<OutboundResponse> Send(const OutboundRequest& request) override;
};

// A fixed-size pool of worker threads for blocking outbound calls. Post never blocks.
// Destruction runs the queued tasks and joins.
class HttpWorkerPool {
 public:
  explicit HttpWorkerPool(size_t threads);
  ~HttpWorkerPool();
  HttpWorkerPool(const HttpWorkerPool&) = delete;
  HttpWorkerPool& operator=(const HttpWorkerPool&) = delete;
  void Post(std::function<void()> task);

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

// Splits an absolute URL into "scheme://host:port" and "/path?query". False if malformed.
bool SplitUrl(std::string_view url, std::string& origin, std::string& path_and_query);

}  // namespace kefu::channels
