// Fake WeCom API: gettoken, message/send, kf/sync_msg, kf/send_msg (spec §2.5, §2.6, §3).
#pragma once

#include <deque>
#include <string>

#include "tests/fakes/fake_server.h"

namespace kefu::fakes {

class FakeWecom : public FakeServer {
 public:
  // Accepts gettoken for (corp_id, secret) and (corp_id, kf_secret) when non-empty.
  FakeWecom(std::string corp_id, std::string secret, std::string kf_secret = "");

  // Invalidates every issued token (next API call with it gets 42001).
  void ExpireTokens();
  // Queues a sync_msg page (a full JSON response). Without queued pages sync_msg answers an empty
  // final page echoing the cursor.
  void QueueSyncPage(nlohmann::json page);
  // Text contents delivered by message/send and kf/send_msg, in order.
  std::vector<std::string> SentTexts(const std::string& path) const;
  int tokens_issued() const;

  static constexpr char kGetToken[] = "/cgi-bin/gettoken";
  static constexpr char kMessageSend[] = "/cgi-bin/message/send";
  static constexpr char kSyncMsg[] = "/cgi-bin/kf/sync_msg";
  static constexpr char kKfSend[] = "/cgi-bin/kf/send_msg";

 private:
  nlohmann::json CheckToken(const RecordedRequest& r) const;

  std::string corp_id_;
  std::string secret_;
  std::string kf_secret_;
  mutable std::mutex mu_;
  int generation_ = 0;                // guarded by mu_; tokens are "tok-<gen>-<n>"
  int issued_ = 0;                    // guarded by mu_
  std::vector<std::string> valid_;    // guarded by mu_
  std::deque<nlohmann::json> pages_;  // guarded by mu_
};

}  // namespace kefu::fakes
