#include "channels/wecom/wecom_sender.h"

#include <algorithm>

#include "channels/common/inbound.h"
#include "channels/common/text_split.h"
#include "channels/common/wx_crypto.h"

namespace kefu::channels::wecom {

constexpr size_t kMaxTextBytes = 2048;

namespace {

constexpr char kRecentKfSent[] =
    "SELECT id, idempotency_key, content FROM channel_outbox WHERE channel = 'wecom_kf' AND "
    "app = ? AND destination = ? AND state = 'sent' AND updated_ms <= ? ORDER BY id DESC LIMIT 50";
constexpr char kRequeue[] =
    "UPDATE channel_outbox SET state = 'pending', next_attempt_ms = ?, last_error = ?, "
    "updated_ms = ? WHERE id = ?";
constexpr char kSetState[] =
    "UPDATE channel_outbox SET state = ?, last_error = ?, updated_ms = ? WHERE id = ?";

}  // namespace

std::string KfMsgId(std::string_view idempotency_key, size_t part) {
  std::string seed(idempotency_key);
  seed += '#';
  seed += std::to_string(part);
  return Sha256Hex(seed).substr(0, 32);
}

Result<bool> ApplyKfSendFailure(storage::Database& db, std::string_view app,
                                std::string_view external_userid, std::string_view fail_msgid,
                                int fail_type, int64_t event_ms, int64_t now_ms) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * find, db.Prepare(kRecentKfSent));
  KEFU_RETURN_IF_ERROR(find->BindAll(app, external_userid, event_ms));
  std::optional<int64_t> row_id;
  while (!row_id) {
    KEFU_ASSIGN_OR_RETURN(bool row, find->Step());
    if (!row) break;
    std::string key = find->ColumnText(1);
    size_t parts = std::max<size_t>(1, SplitUtf8(find->ColumnText(2), kMaxTextBytes).size());
    for (size_t i = 0; i < parts && !row_id; ++i) {
      if (KfMsgId(key, i) == fail_msgid) row_id = find->ColumnInt64(0);
    }
  }
  find->Reset();
  if (!row_id) return false;
  std::string reason = "msg_send_fail fail_type=" + std::to_string(fail_type);
  if (fail_type == 0) {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kRequeue));
    KEFU_RETURN_IF_ERROR(st->BindAll(now_ms, reason, now_ms, *row_id));
    KEFU_RETURN_IF_ERROR(st->Run());
    return true;
  }
  const char* state = (fail_type == 4 || fail_type == 6) ? "held" : "dead";
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSetState));
  KEFU_RETURN_IF_ERROR(st->BindAll(state, reason, now_ms, *row_id));
  KEFU_RETURN_IF_ERROR(st->Run());
  return true;
}

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

int WecomSender::PlatformSends(const OutboxRow& row) {
  return static_cast<int>(
      std::max<size_t>(1, SplitUtf8(row.message.content, kMaxTextBytes).size()));
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

int KfSender::PlatformSends(const OutboxRow& row) {
  return KfMessages(row.message.content);
}

int KfSender::KfMessages(std::string_view content) {
  return static_cast<int>(std::max<size_t>(1, SplitUtf8(content, kMaxTextBytes).size()));
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
  // The platform counts kf/send_msg calls, not our rows: each split part is one message.
  auto sent = SentContentsSince(db, "wecom_kf", app_.name, row.message.destination, last_ms);
  if (!sent.ok()) return std::nullopt;
  int messages = 0;
  for (const std::string& content : *sent)
    messages += KfMessages(content);
  int needed = KfMessages(row.message.content);
  if (messages + needed > kMaxRepliesPerTurn) {
    return "kf window: " + std::to_string(messages) +
           " messages already sent since the customer's last message, this reply needs " +
           std::to_string(needed) + ", at most 5 are allowed (95001)";
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
  std::string unconfirmed;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string msgid = KfMsgId(row.message.idempotency_key, i);
    nlohmann::json body = {{"touser", row.message.destination},
                           {"open_kfid", open_kfid},
                           {"msgid", msgid},
                           {"msgtype", "text"},
                           {"text", {{"content", parts[i]}}}};
    auto reply = api_.Post("/cgi-bin/kf/send_msg", body);
    if (!reply.ok() && reply.status().code() == StatusCode::kDeadlineExceeded) {
      // Maybe delivered: never resent blindly; msg_send_fail for this msgid sends it again.
      unconfirmed += (unconfirmed.empty() ? "" : ",") + msgid;
      continue;
    }
    SendOutcome o = Classify(reply, clock_.Now());
    if (o.kind != SendOutcome::Kind::kSent) return o;
  }
  if (!unconfirmed.empty()) {
    return {SendOutcome::Kind::kSent,
            "kf/send_msg timed out, not resent unless msg_send_fail reports msgid " + unconfirmed,
            {}};
  }
  return {};
}

}  // namespace kefu::channels::wecom
