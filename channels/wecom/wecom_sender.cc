#include "channels/wecom/wecom_sender.h"

#include "channels/common/inbound.h"
#include "channels/common/text_split.h"
#include "channels/common/wx_crypto.h"

namespace kefu::channels::wecom {

constexpr size_t kMaxTextBytes = 2048;

SendOutcome Classify(const Result<ApiReply>& reply, TimePoint now) {
  using K = SendOutcome::Kind;
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kUnauthenticated) {
      return {K::kDead, reply.status().message(), {}};
    }
    return {K::kRetry, reply.status().ToString(), {}};
  }
  const ApiReply& r = *reply;
  std::string err = std::to_string(r.errcode) + " " + r.errmsg;
  if (r.http_status >= 500 || r.http_status == 429) {
    return {K::kRetry, "http " + std::to_string(r.http_status), {}};
  }
  if (r.errcode == 0) return {K::kSent, "", {}};
  if (r.errcode == -1 || r.errcode == -2 || r.errcode == 40014 || r.errcode == 42001) {
    return {K::kRetry, err, {}};
  }
  if (r.errcode == 45009 || r.errcode == 45033) {
    return {K::kRateLimited, err, now + std::chrono::seconds(60)};
  }
  if (r.errcode == 95001 || r.errcode == 95002 || r.errcode == 95018) {
    return {K::kHold, err, {}};
  }
  return {K::kDead, err, {}};
}

WecomSender::WecomSender(const WecomAppConfig& app, WecomApi& api, const Clock& clock)
    : app_(app), api_(api), clock_(clock) {}

std::vector<std::pair<std::string, RateLimit>> WecomSender::Limits(const OutboxRow& row) {
  return {{"wecom|" + app_.name + "|" + row.message.destination,
           RateLimit{app_.per_member_per_minute, std::chrono::seconds(60)}}};
}

std::optional<std::string> WecomSender::HoldReason(storage::Database&, const OutboxRow&,
                                                   TimePoint) {
  return std::nullopt;
}

SendOutcome WecomSender::Send(const OutboxRow& row) {
  const std::string type = row.message.msg_type == "markdown" ? "markdown" : "text";
  auto parts = SplitUtf8(row.message.content, kMaxTextBytes);
  if (parts.empty()) return {SendOutcome::Kind::kDead, "44004 empty content", {}};
  for (const auto& part : parts) {
    nlohmann::json body = {
        {"touser", row.message.destination}, {"msgtype", type}, {"agentid", app_.agent_id},
        {type, {{"content", part}}},         {"safe", 0},       {"enable_duplicate_check", 1},
        {"duplicate_check_interval", 1800}};
    SendOutcome o = Classify(api_.Post("/cgi-bin/message/send", body), clock_.Now());
    // A resend repeats the identical body, so parts already delivered are deduplicated by WeCom.
    if (o.kind != SendOutcome::Kind::kSent) return o;
  }
  return {};
}

KfSender::KfSender(const WecomAppConfig& app, WecomApi& kf_api, const Clock& clock)
    : app_(app), api_(kf_api), clock_(clock) {}

std::vector<std::pair<std::string, RateLimit>> KfSender::Limits(const OutboxRow& row) {
  return {{"wecom_kf|" + app_.name + "|" + row.message.destination,
           RateLimit{kMaxRepliesPerTurn, std::chrono::seconds(1)}}};
}

std::optional<std::string> KfSender::HoldReason(storage::Database& db, const OutboxRow& row,
                                                TimePoint now) {
  auto last = LastInboundTime(db, "wecom_kf", app_.name, row.message.destination);
  if (!last.ok()) return std::nullopt;  // a read failure is retried by the next round's send
  if (!last->has_value()) return "kf window: no customer message to reply to";
  int64_t last_ms = **last;
  if (ToUnixMs(now) > last_ms + std::chrono::milliseconds(kWindow).count()) {
    return "kf window: 48 h since the customer's last message (95002)";
  }
  auto sent = CountSentSince(db, "wecom_kf", app_.name, row.message.destination, last_ms);
  if (sent.ok() && *sent >= kMaxRepliesPerTurn) {
    return "kf window: 5 replies already sent since the customer's last message (95001)";
  }
  return std::nullopt;
}

SendOutcome KfSender::Send(const OutboxRow& row) {
  auto ctx = nlohmann::json::parse(row.message.reply_context, nullptr, false);
  std::string open_kfid = ctx.is_object() ? ctx.value("open_kfid", std::string()) : "";
  if (open_kfid.empty()) return {SendOutcome::Kind::kDead, "reply_context has no open_kfid", {}};
  // Merge into one message where possible: the per-turn quota is 5 messages.
  auto parts = SplitUtf8(row.message.content, kMaxTextBytes);
  if (parts.empty()) return {SendOutcome::Kind::kDead, "44004 empty content", {}};
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string msgid =
        Sha256Hex(row.message.idempotency_key + "#" + std::to_string(i)).substr(0, 32);
    nlohmann::json body = {{"touser", row.message.destination},
                           {"open_kfid", open_kfid},
                           {"msgid", msgid},
                           {"msgtype", "text"},
                           {"text", {{"content", parts[i]}}}};
    SendOutcome o = Classify(api_.Post("/cgi-bin/kf/send_msg", body), clock_.Now());
    if (o.kind != SendOutcome::Kind::kSent) return o;
  }
  return {};
}

}  // namespace kefu::channels::wecom
