// Outbox senders for WeCom: "wecom" (message/send, spec §2.6) and "wecom_kf" (kf/send_msg with the
// 48 h / 5-message window, spec §3).
#pragma once

#include "channels/common/outbox.h"
#include "channels/wecom/wecom_api.h"
#include "channels/wecom/wecom_config.h"

namespace kefu::channels::wecom {

// Maps a WeCom API reply to a dispatcher outcome: 0 sent; -1, 5xx, transport errors retry;
// 45009/45033 rate limited for 60 s; 95001/95002/95018 held (kf window/session); anything else
// (40003, 81013, 40001 ...) dead with "<errcode> <errmsg>".
SendOutcome Classify(const Result<ApiReply>& reply, TimePoint now);

// message/send text/markdown with enable_duplicate_check=1; content split at 2048 UTF-8 bytes.
class WecomSender : public ChannelSender {
 public:
  WecomSender(const WecomAppConfig& app, WecomApi& api, const Clock& clock);
  std::vector<std::pair<std::string, RateLimit>> Limits(const OutboxRow& row) override;
  int PlatformSends(const OutboxRow& row) override;
  std::optional<std::string> HoldReason(storage::Database& db, const OutboxRow& row,
                                        TimePoint now) override;
  SendOutcome Send(const OutboxRow& row) override;

 private:
  const WecomAppConfig& app_;
  WecomApi& api_;
  const Clock& clock_;
};

// kf/send_msg. Holds a reply (reported via the outbox's held state and a metric) when the
// customer's last message is older than 48 h or the reply would make more than 5 platform
// messages since it (every split part is one kf/send_msg, spec §3).
//
// A send that timed out or lost its connection (kDeadlineExceeded) may have been delivered, and a
// blind resend could spend the customer's 5-message quota twice (spec §6.4). It is not resent:
// the row is recorded as sent with the ambiguity in last_error, and WeCom's msg_send_fail event
// for that msgid, pulled by kf/sync_msg, sends it again (ApplyKfSendFailure).
class KfSender : public ChannelSender {
 public:
  KfSender(const WecomAppConfig& app, WecomApi& kf_api, const Clock& clock);
  std::vector<std::pair<std::string, RateLimit>> Limits(const OutboxRow& row) override;
  int PlatformSends(const OutboxRow& row) override;
  std::optional<std::string> HoldReason(storage::Database& db, const OutboxRow& row,
                                        TimePoint now) override;
  SendOutcome Send(const OutboxRow& row) override;

  static constexpr int kMaxRepliesPerTurn = 5;
  static constexpr std::chrono::hours kWindow{48};

 private:
  // kf/send_msg calls needed for `content` (its parts of at most 2048 bytes, at least one).
  static int KfMessages(std::string_view content);

  const WecomAppConfig& app_;
  WecomApi& api_;
  const Clock& clock_;
};

// The deterministic kf msgid of part `part` of an outbox row: the first 32 hex characters of
// SHA-256(idempotency_key + "#" + part).
std::string KfMsgId(std::string_view idempotency_key, size_t part);

// Applies a 微信客服 msg_send_fail event (spec §3: fail_msgid, fail_type) to the sent outbox row of
// `app` to `external_userid` whose part has msgid `fail_msgid` and that was last updated before
// the event (`event_ms`; a re-synced old event changes nothing): fail_type 0 (unknown) -> pending,
// sent again now; 4 (48 h) and 6 (5-message limit) -> held; any other -> dead. The reason
// ("msg_send_fail fail_type=N") is kept in last_error. Returns whether a row matched. Call inside
// a writer job.
Result<bool> ApplyKfSendFailure(storage::Database& db, std::string_view app,
                                std::string_view external_userid, std::string_view fail_msgid,
                                int fail_type, int64_t event_ms, int64_t now_ms);

}  // namespace kefu::channels::wecom
