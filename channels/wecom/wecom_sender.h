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
  std::optional<std::string> HoldReason(storage::Database& db, const OutboxRow& row,
                                        TimePoint now) override;
  SendOutcome Send(const OutboxRow& row) override;

 private:
  const WecomAppConfig& app_;
  WecomApi& api_;
  const Clock& clock_;
};

// kf/send_msg. Holds a reply (reported via the outbox's held state and a metric) when the
// customer's last message is older than 48 h or 5 replies were already sent since it.
class KfSender : public ChannelSender {
 public:
  KfSender(const WecomAppConfig& app, WecomApi& kf_api, const Clock& clock);
  std::vector<std::pair<std::string, RateLimit>> Limits(const OutboxRow& row) override;
  std::optional<std::string> HoldReason(storage::Database& db, const OutboxRow& row,
                                        TimePoint now) override;
  SendOutcome Send(const OutboxRow& row) override;

  static constexpr int kMaxRepliesPerTurn = 5;
  static constexpr std::chrono::hours kWindow{48};

 private:
  const WecomAppConfig& app_;
  WecomApi& api_;
  const Clock& clock_;
};

}  // namespace kefu::channels::wecom
