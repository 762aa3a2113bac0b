// Fake DingTalk API: OAuth token, sessionWebhook, robot OpenAPI single/group send and the Stream
// gateway "connections/open" endpoint (spec §4.2, §4.3, §4.6). The WebSocket side of Stream mode
// is FakeStreamGateway (fake_stream_gateway.h).
#pragma once

#include <string>

#include "tests/fakes/fake_server.h"

namespace kefu::fakes {

class FakeDingtalk : public FakeServer {
 public:
  FakeDingtalk(std::string app_key, std::string app_secret);

  // The sessionWebhook URL a callback should carry (served by this fake).
  std::string SessionWebhookUrl(const std::string& session) const;
  // Where connections/open points clients (ws://127.0.0.1:<port>/stream).
  void set_stream_endpoint(std::string endpoint) { stream_endpoint_ = std::move(endpoint); }
  void ExpireTokens();
  // Text contents received on `path` (sessionWebhook bodies or OpenAPI msgParam content).
  std::vector<std::string> SentTexts(const std::string& path) const;

  static constexpr char kToken[] = "/v1.0/oauth2/accessToken";
  static constexpr char kSession[] = "/robot/sendBySession";
  static constexpr char kOtoSend[] = "/v1.0/robot/oToMessages/batchSend";
  static constexpr char kGroupSend[] = "/v1.0/robot/groupMessages/send";
  static constexpr char kOpen[] = "/v1.0/gateway/connections/open";

 protected:
  nlohmann::json ErrorBody(int code) const override;

 private:
  bool TokenValid(const RecordedRequest& r) const;
  std::string app_key_;
  std::string app_secret_;
  std::string stream_endpoint_;
  mutable std::mutex mu_;
  int generation_ = 0;  // guarded by mu_
};

}  // namespace kefu::fakes
