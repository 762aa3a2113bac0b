#include "tests/fakes/fake_server.h"

#include <httplib.h>

#include <cctype>

namespace kefu::fakes {

FakeServer::FakeServer() : server_(std::make_unique<httplib::Server>()) {}

FakeServer::~FakeServer() {
  Stop();
}

void FakeServer::Start() {
  server_->set_keep_alive_max_count(1000);
  int port = server_->bind_to_any_port("127.0.0.1");
  port_ = static_cast<uint16_t>(port);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void FakeServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void FakeServer::Inject(const std::string& path, Fault fault, int count) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < count; ++i)
    faults_[path].push_back(fault);
}

std::vector<RecordedRequest> FakeServer::Requests(const std::string& path) const {
  std::lock_guard lock(mu_);
  if (path.empty()) return requests_;
  std::vector<RecordedRequest> out;
  for (const auto& r : requests_) {
    if (r.path == path) out.push_back(r);
  }
  return out;
}

void FakeServer::ClearRequests() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

void FakeServer::ClearFaults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

nlohmann::json FakeServer::ErrorBody(int code) const {
  return {{"errcode", code}, {"errmsg", "injected error " + std::to_string(code)}};
}

RecordedRequest FakeServer::Record(const httplib::Request& req) {
  RecordedRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params)
    r.query[k] = v;
  for (const auto& [k, v] : req.headers) {
    std::string lower = k;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[lower] = v;
  }
  r.body = req.body;
  std::lock_guard lock(mu_);
  requests_.push_back(r);
  return r;
}

void FakeServer::Route(const std::string& method, const std::string& path, JsonHandler handler) {
  auto fn = [this, path, handler](const httplib::Request& req, httplib::Response& res) {
    RecordedRequest r = Record(req);
    std::optional<Fault> fault;
    {
      std::lock_guard lock(mu_);
      auto it = faults_.find(path);
      if (it != faults_.end() && !it->second.empty()) {
        fault = it->second.front();
        it->second.pop_front();
      }
    }
    if (fault) {
      switch (fault->kind) {
        case Fault::Kind::kErrcode:
          res.set_content(ErrorBody(fault->code).dump(), "application/json");
          return;
        case Fault::Kind::kHttpStatus:
          res.status = fault->code;
          res.set_content("{\"error\":\"injected\"}", "application/json");
          return;
        case Fault::Kind::kDelay:
          std::this_thread::sleep_for(fault->delay);
          break;
        case Fault::Kind::kDrop:
          // A content provider that fails aborts the response: the client sees a dropped
          // connection.
          res.set_content_provider(1000, "application/json",
                                   [](size_t, size_t, httplib::DataSink&) { return false; });
          return;
      }
    }
    res.set_content(handler(r).dump(), "application/json");
  };
  if (method == "GET") {
    server_->Get(path, fn);
  } else {
    server_->Post(path, fn);
  }
}

}  // namespace kefu::fakes
