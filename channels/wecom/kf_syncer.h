// 微信客服: pulls messages with kf/sync_msg after a kf_msg_or_event notification (spec §3).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "channels/common/http_client.h"
#include "channels/common/inbound.h"
#include "channels/wecom/wecom_api.h"
#include "storage/read_pool.h"

namespace kefu::channels::wecom {

// Converts one sync_msg msg_list item to an InboundMessage. Customer messages (origin 3) and
// events (origin 4) are kept; servicer messages (origin 5) become msg_type "servicer_message"
// (a hand-off signal for the bot). Dedupe key "wecom_kf|<corp>|<msgid>".
InboundMessage KfItemToInbound(std::string_view app, std::string_view corp_id,
                               const nlohmann::json& item, int64_t received_at_ms);

// Pages through sync_msg while has_more == 1 (also when msg_list is empty), storing each page's
// messages and its next_cursor in one transaction before fetching the next page. One sync per
// (open_kfid) at a time; a notification arriving during a sync triggers one more pass.
// Thread-safe; Sync runs on the worker pool.
class KfSyncer {
 public:
  KfSyncer(std::string app, std::string corp_id, WecomApi& api, InboundRecorder& recorder,
           storage::ReadPool& reads, HttpWorkerPool& pool, const Clock& clock);
  // Schedules a sync for `open_kfid` with the callback's token (valid 10 minutes; may be "").
  void Schedule(const std::string& open_kfid, const std::string& callback_token);
  // Runs a sync on the caller's thread (blocking). Returns the number of new messages stored.
  Result<int> SyncNow(const std::string& open_kfid, const std::string& callback_token);
  // Open kf ids with a persisted cursor (to resume at start).
  Result<std::vector<std::string>> KnownKfIds();

 private:
  std::string app_;
  std::string corp_id_;
  WecomApi& api_;
  InboundRecorder& recorder_;
  storage::ReadPool& reads_;
  HttpWorkerPool& pool_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::string> running_;  // guarded by mu_: open_kfid -> rerun token
  std::set<std::string> rerun_;                 // guarded by mu_
};

}  // namespace kefu::channels::wecom
