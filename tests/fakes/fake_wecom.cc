#include "tests/fakes/fake_wecom.h"

#include <algorithm>

namespace kefu::fakes {

FakeWecom::FakeWecom(std::string corp_id, std::string secret, std::string kf_secret)
    : corp_id_(std::move(corp_id)), secret_(std::move(secret)), kf_secret_(std::move(kf_secret)) {
  Route("GET", kGetToken, [this](const RecordedRequest& r) -> nlohmann::json {
    auto corp = r.query.find("corpid");
    auto sec = r.query.find("corpsecret");
    bool ok = corp != r.query.end() && corp->second == corp_id_ && sec != r.query.end() &&
              (sec->second == secret_ || (!kf_secret_.empty() && sec->second == kf_secret_));
    if (!ok) return {{"errcode", 40001}, {"errmsg", "invalid credential"}};
    std::lock_guard lock(mu_);
    std::string tok = "tok-" + std::to_string(generation_) + "-" + std::to_string(++issued_);
    valid_.push_back(tok);
    return {{"errcode", 0}, {"errmsg", "ok"}, {"access_token", tok}, {"expires_in", 7200}};
  });
  Route("POST", kMessageSend, [this](const RecordedRequest& r) -> nlohmann::json {
    auto err = CheckToken(r);
    if (!err.is_null()) return err;
    return {{"errcode", 0},
            {"errmsg", "ok"},
            {"invaliduser", ""},
            {"msgid", std::to_string(Count(kMessageSend))}};
  });
  Route("POST", kKfSend, [this](const RecordedRequest& r) -> nlohmann::json {
    auto err = CheckToken(r);
    if (!err.is_null()) return err;
    auto j = r.Json();
    return {{"errcode", 0}, {"errmsg", "ok"}, {"msgid", j.value("msgid", std::string("kfm"))}};
  });
  Route("POST", kSyncMsg, [this](const RecordedRequest& r) -> nlohmann::json {
    auto err = CheckToken(r);
    if (!err.is_null()) return err;
    std::lock_guard lock(mu_);
    if (pages_.empty()) {
      auto j = r.Json();
      return {{"errcode", 0},
              {"errmsg", "ok"},
              {"next_cursor", j.is_object() ? j.value("cursor", std::string()) : ""},
              {"has_more", 0},
              {"msg_list", nlohmann::json::array()}};
    }
    auto page = pages_.front();
    pages_.pop_front();
    return page;
  });
}

nlohmann::json FakeWecom::CheckToken(const RecordedRequest& r) const {
  auto it = r.query.find("access_token");
  if (it == r.query.end()) return {{"errcode", 41001}, {"errmsg", "access_token missing"}};
  std::lock_guard lock(mu_);
  if (std::find(valid_.begin(), valid_.end(), it->second) == valid_.end()) {
    return {{"errcode", 42001}, {"errmsg", "access_token expired"}};
  }
  return nullptr;
}

void FakeWecom::ExpireTokens() {
  std::lock_guard lock(mu_);
  valid_.clear();
  ++generation_;
}

void FakeWecom::QueueSyncPage(nlohmann::json page) {
  std::lock_guard lock(mu_);
  pages_.push_back(std::move(page));
}

std::vector<std::string> FakeWecom::SentTexts(const std::string& path) const {
  std::vector<std::string> out;
  for (const auto& r : Requests(path)) {
    auto j = r.Json();
    if (!j.is_object()) continue;
    if (j.contains("text")) out.push_back(j["text"].value("content", ""));
    if (j.contains("markdown")) out.push_back(j["markdown"].value("content", ""));
  }
  return out;
}

int FakeWecom::tokens_issued() const {
  std::lock_guard lock(mu_);
  return issued_;
}

}  // namespace kefu::fakes
