#include "channels/dingtalk/dingtalk_sender.h"

#include <algorithm>

#include "channels/common/text_split.h"

namespace kefu::channels::dingtalk {
namespace {

constexpr size_t kMaxTextBytes = 5000;
constexpr int64_t kWebhookMarginMs = 60'000;

}  // namespace

DingtalkApi::DingtalkApi(const DingtalkAppConfig& app, HttpClient& http, const Clock& clock)
    : app_(app), http_(http), tokens_(clock, [this] { return FetchToken(); }) {}

Result<FetchedToken> DingtalkApi::FetchToken() {
  OutboundRequest req;
  req.url = app_.api_base + "/v1.0/oauth2/accessToken";
  req.body = nlohmann::json{{"appKey", app_.app_key}, {"appSecret", app_.app_secret}}.dump();
  KEFU_ASSIGN_OR_RETURN(OutboundResponse res, http_.Send(req));
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_object() && j.contains("accessToken")) {
    return FetchedToken{j.value("accessToken", std::string()),
                        std::chrono::seconds(j.value("expireIn", int64_t{7200}))};
  }
  if (res.status == 400 || res.status == 401 || res.status == 403 ||
      (j.is_object() && j.value("code", std::string()) == "invalidClientSecret")) {
    return Unauthenticated("dingtalk accessToken refused: http " + std::to_string(res.status));
  }
  return Unavailable("dingtalk accessToken: http " + std::to_string(res.status));
}

Result<OutboundResponse> DingtalkApi::PostWithToken(const std::string& path,
                                                    const nlohmann::json& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    KEFU_ASSIGN_OR_RETURN(std::string token, tokens_.Get());
    OutboundRequest req;
    req.url = app_.api_base + path;
    req.headers.emplace("x-acs-dingtalk-access-token", token);
    req.body = body.dump();
    KEFU_ASSIGN_OR_RETURN(OutboundResponse res, http_.Send(req));
    auto j = nlohmann::json::parse(res.body, nullptr, false);
    bool invalid = res.status == 401 ||
                   (j.is_object() && j.value("code", std::string()) == "InvalidAuthentication");
    if (invalid && attempt == 0) {
      tokens_.Invalidate(token);
      continue;
    }
    return res;
  }
  return Internal("dingtalk: unreachable");
}

Result<std::pair<std::string, std::string>> DingtalkApi::OpenStream(const std::string& local_ip) {
  OutboundRequest req;
  req.url = app_.api_base + "/v1.0/gateway/connections/open";
  req.body = nlohmann::json{
      {"clientId", app_.app_key},
      {"clientSecret", app_.app_secret},
      {"subscriptions",
       {{{"type", "CALLBACK"}, {"topic", "/v1.0/im/bot/messages/get"}},
        {{"type", "EVENT"}, {"topic", "*"}}}},
      {"ua", "kefu/0.1"},
      {"localIp",
       local_ip}}.dump();
  KEFU_ASSIGN_OR_RETURN(OutboundResponse res, http_.Send(req));
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (!j.is_object() || !j.contains("endpoint") || !j.contains("ticket")) {
    if (res.status >= 400 && res.status < 500) {
      return Unauthenticated("dingtalk stream open refused: http " + std::to_string(res.status));
    }
    return Unavailable("dingtalk stream open failed: http " + std::to_string(res.status));
  }
  return std::make_pair(j.value("endpoint", std::string()), j.value("ticket", std::string()));
}

DingtalkSender::DingtalkSender(const DingtalkAppConfig& app, DingtalkApi& api, HttpClient& http,
                               const Clock& clock)
    : app_(app), api_(api), http_(http), clock_(clock) {}

std::vector<std::pair<std::string, RateLimit>> DingtalkSender::Limits(const OutboxRow&) {
  return {{"dingtalk|" + app_.name, RateLimit{app_.robot_per_minute, std::chrono::seconds(60)}}};
}

std::optional<std::string> DingtalkSender::HoldReason(storage::Database&, const OutboxRow&,
                                                      TimePoint) {
  return std::nullopt;
}

SendOutcome DingtalkSender::SendPart(const OutboxRow& row, const nlohmann::json& ctx,
                                     const std::string& text) {
  using K = SendOutcome::Kind;
  TimePoint now = clock_.Now();
  std::string webhook = ctx.value("sessionWebhook", std::string());
  int64_t expires = ctx.value("sessionWebhookExpiredTime", int64_t{0});
  bool markdown = row.message.msg_type == "markdown";
  Result<OutboundResponse> res = Unavailable("not sent");
  if (!webhook.empty() && ToUnixMs(now) < expires - kWebhookMarginMs) {
    nlohmann::json body = markdown
                              ? nlohmann::json{{"msgtype", "markdown"},
                                               {"markdown", {{"title", "回复"}, {"text", text}}}}
                              : nlohmann::json{{"msgtype", "text"}, {"text", {{"content", text}}}};
    std::string staff = ctx.value("senderStaffId", std::string());
    if (ctx.value("conversationType", std::string()) == "2" && !staff.empty()) {
      body["at"] = {{"atUserIds", {staff}}};
    }
    OutboundRequest req;
    req.url = webhook;
    req.body = body.dump();
    req.total_timeout = std::chrono::milliseconds(5000);
    res = http_.Send(req);
  } else {
    std::string robot =
        app_.robot_code.empty() ? ctx.value("robotCode", std::string()) : app_.robot_code;
    nlohmann::json param = markdown ? nlohmann::json{{"title", "回复"}, {"text", text}}
                                    : nlohmann::json{{"content", text}};
    nlohmann::json body = {{"robotCode", robot},
                           {"msgKey", markdown ? "sampleMarkdown" : "sampleText"},
                           {"msgParam", param.dump()}};
    if (ctx.value("conversationType", std::string()) == "2") {
      body["openConversationId"] = ctx.value("conversationId", std::string());
      res = api_.PostWithToken("/v1.0/robot/groupMessages/send", body);
    } else {
      body["userIds"] = {row.message.destination};
      res = api_.PostWithToken("/v1.0/robot/oToMessages/batchSend", body);
    }
  }
  if (!res.ok()) {
    if (res.status().code() == StatusCode::kUnauthenticated) {
      return {K::kDead, res.status().message(), {}};
    }
    return {K::kRetry, res.status().ToString(), {}};
  }
  if (res->status >= 500 || res->status == 429) {
    return {K::kRetry, "http " + std::to_string(res->status), {}};
  }
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  int64_t errcode = j.is_object() ? j.value("errcode", int64_t{0}) : 0;
  if (errcode == 130101) {
    return {K::kRateLimited, "130101 send too fast", now + std::chrono::minutes(10)};
  }
  if (res->status >= 400 || errcode != 0) {
    return {K::kDead, "http " + std::to_string(res->status) + " " + res->body.substr(0, 200), {}};
  }
  return {};
}

int DingtalkSender::PlatformSends(const OutboxRow& row) {
  return static_cast<int>(
      std::max<size_t>(1, SplitUtf8(row.message.content, kMaxTextBytes).size()));
}

SendOutcome DingtalkSender::Send(const OutboxRow& row) {
  auto ctx = nlohmann::json::parse(row.message.reply_context, nullptr, false);
  if (!ctx.is_object()) ctx = nlohmann::json::object();
  auto parts = SplitUtf8(row.message.content, kMaxTextBytes);
  if (parts.empty()) return {SendOutcome::Kind::kDead, "empty content", {}};
  for (const auto& p : parts) {
    SendOutcome o = SendPart(row, ctx, p);
    if (o.kind != SendOutcome::Kind::kSent) return o;
  }
  return {};
}

}  // namespace kefu::channels::dingtalk
