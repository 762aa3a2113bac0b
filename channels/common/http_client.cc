#include "channels/common/http_client.h"

#include <httplib.h>

namespace kefu::channels {

bool SplitUrl(std::string_view url, std::string& origin, std::string& path_and_query) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  size_t path_start = url.find('/', scheme_end + 3);
  if (path_start == scheme_end + 3) return false;
  origin = std::string(url.substr(0, path_start));
  path_and_query = path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
  return true;
}

Result<OutboundResponse> HttplibClient::Send(const OutboundRequest& request) {
  std::string origin;
  std::string path;
  if (!SplitUrl(request.url, origin, path)) return InvalidArgument("outbound: malformed url");
  try {
    httplib::Client cli(origin);
    cli.enable_server_certificate_verification(true);
    auto ct = std::chrono::duration_cast<std::chrono::microseconds>(request.connect_timeout);
    auto tt = std::chrono::duration_cast<std::chrono::microseconds>(request.total_timeout);
    cli.set_connection_timeout(ct.count() / 1'000'000, ct.count() % 1'000'000);
    cli.set_read_timeout(tt.count() / 1'000'000, tt.count() % 1'000'000);
    cli.set_write_timeout(tt.count() / 1'000'000, tt.count() % 1'000'000);
    httplib::Headers headers;
    for (const auto& [k, v] : request.headers)
      headers.emplace(k, v);
    httplib::Result res = request.method == "GET"
                              ? cli.Get(path, headers)
                              : cli.Post(path, headers, request.body, request.content_type);
    if (!res) {
      auto err = res.error();
      if (err == httplib::Error::Read || err == httplib::Error::Write) {
        // Timeouts surface as read errors in cpp-httplib 0.11.
        return DeadlineExceeded("outbound: " + httplib::to_string(err) + " (timeout or reset)");
      }
      return Unavailable("outbound: " + httplib::to_string(err));
    }
    return OutboundResponse{res->status, res->body};
  } catch (const std::exception& e) {
    return Unavailable(std::string("outbound: ") + e.what());
  }
}

HttpWorkerPool::HttpWorkerPool(size_t threads) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { Loop(); });
}

HttpWorkerPool::~HttpWorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void HttpWorkerPool::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void HttpWorkerPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace kefu::channels
