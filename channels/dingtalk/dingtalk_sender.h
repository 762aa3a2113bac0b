// Outbox sender for "dingtalk" (spec §4.2, §4.3): sessionWebhook until 60 s before it expires,
// then the robot OpenAPI (oToMessages/batchSend for one-on-one, groupMessages/send for groups)
// with a cached access token (refreshed once on 401/invalid token). Per-robot budget 20/min.
#pragma once

#include <nlohmann/json.hpp>

#include "channels/common/http_client.h"
#include "channels/common/outbox.h"
#include "channels/common/token_cache.h"
#include "channels/dingtalk/dingtalk_config.h"

namespace kefu::channels::dingtalk {

// The OpenAPI token (POST /v1.0/oauth2/accessToken) and the Stream gateway "open" call.
class DingtalkApi {
 public:
  DingtalkApi(const DingtalkAppConfig& app, HttpClient& http, const Clock& clock);
  // POST api_base + path with x-acs-dingtalk-access-token; on 401 / InvalidAuthentication
  // invalidates the token and retries once.
  Result<OutboundResponse> PostWithToken(const std::string& path, const nlohmann::json& body);
  // POST /v1.0/gateway/connections/open -> {endpoint, ticket}.
  Result<std::pair<std::string, std::string>> OpenStream(const std::string& local_ip);
  TokenCache& tokens() { return tokens_; }

 private:
  Result<FetchedToken> FetchToken();
  const DingtalkAppConfig& app_;
  HttpClient& http_;
  TokenCache tokens_;
};

class DingtalkSender : public ChannelSender {
 public:
  DingtalkSender(const DingtalkAppConfig& app, DingtalkApi& api, HttpClient& http,
                 const Clock& clock);
  std::vector<std::pair<std::string, RateLimit>> Limits(const OutboxRow& row) override;
  int PlatformSends(const OutboxRow& row) override;
  std::optional<std::string> HoldReason(storage::Database& db, const OutboxRow& row,
                                        TimePoint now) override;
  SendOutcome Send(const OutboxRow& row) override;

 private:
  SendOutcome SendPart(const OutboxRow& row, const nlohmann::json& ctx, const std::string& text);
  const DingtalkAppConfig& app_;
  DingtalkApi& api_;
  HttpClient& http_;
  const Clock& clock_;
};

}  // namespace kefu::channels::dingtalk
