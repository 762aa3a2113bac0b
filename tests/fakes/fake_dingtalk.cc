#include "tests/fakes/fake_dingtalk.h"

namespace kefu::fakes {

FakeDingtalk::FakeDingtalk(std::string app_key, std::string app_secret)
    : app_key_(std::move(app_key)), app_secret_(std::move(app_secret)) {
  Route("POST", kToken, [this](const RecordedRequest& r) -> nlohmann::json {
    auto j = r.Json();
    if (!j.is_object() || j.value("appKey", "") != app_key_ ||
        j.value("appSecret", "") != app_secret_) {
      return {{"code", "invalidClientSecret"}, {"message", "bad secret"}};
    }
    std::lock_guard lock(mu_);
    return {{"accessToken", "dtok-" + std::to_string(generation_)}, {"expireIn", 7200}};
  });
  Route("POST", kSession, [](const RecordedRequest&) -> nlohmann::json {
    return {{"errcode", 0}, {"errmsg", "ok"}};
  });
  auto openapi = [this](const RecordedRequest& r) -> nlohmann::json {
    if (!TokenValid(r)) return {{"code", "InvalidAuthentication"}, {"message", "token invalid"}};
    return {{"processQueryKey", "pqk" + std::to_string(Count(r.path))}};
  };
  Route("POST", kOtoSend, openapi);
  Route("POST", kGroupSend, openapi);
  Route("POST", kOpen, [this](const RecordedRequest& r) -> nlohmann::json {
    auto j = r.Json();
    if (!j.is_object() || j.value("clientId", "") != app_key_ ||
        j.value("clientSecret", "") != app_secret_) {
      return {{"code", "invalidClientSecret"}, {"message", "bad secret"}};
    }
    return {{"endpoint", stream_endpoint_}, {"ticket", "ticket-" + std::to_string(Count(kOpen))}};
  });
}

std::string FakeDingtalk::SessionWebhookUrl(const std::string& session) const {
  return base_url() + kSession + "?session=" + session;
}

bool FakeDingtalk::TokenValid(const RecordedRequest& r) const {
  auto it = r.headers.find("x-acs-dingtalk-access-token");
  std::lock_guard lock(mu_);
  return it != r.headers.end() && it->second == "dtok-" + std::to_string(generation_);
}

void FakeDingtalk::ExpireTokens() {
  std::lock_guard lock(mu_);
  ++generation_;
}

nlohmann::json FakeDingtalk::ErrorBody(int code) const {
  return {{"errcode", code}, {"errmsg", "injected error " + std::to_string(code)}};
}

std::vector<std::string> FakeDingtalk::SentTexts(const std::string& path) const {
  std::vector<std::string> out;
  for (const auto& r : Requests(path)) {
    auto j = r.Json();
    if (!j.is_object()) continue;
    if (j.contains("text")) {
      out.push_back(j["text"].value("content", ""));
    } else if (j.contains("msgParam")) {
      auto p = nlohmann::json::parse(j.value("msgParam", "{}"), nullptr, false);
      if (p.is_object()) out.push_back(p.value("content", p.value("text", "")));
    }
  }
  return out;
}

}  // namespace kefu::fakes
