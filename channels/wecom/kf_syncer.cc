#include "channels/wecom/kf_syncer.h"

#include <spdlog/spdlog.h>

#include <future>

#include "channels/wecom/wecom_sender.h"

namespace kefu::channels::wecom {
namespace {

constexpr char kSelectCursor[] =
    "SELECT cursor FROM channel_kf_cursor WHERE app = ? AND open_kfid = ?";
constexpr char kSelectKfIds[] = "SELECT open_kfid FROM channel_kf_cursor WHERE app = ?";
constexpr char kUpsertCursor[] =
    "INSERT INTO channel_kf_cursor(app, open_kfid, cursor, updated_ms) VALUES(?,?,?,?) "
    "ON CONFLICT(app, open_kfid) DO UPDATE SET cursor = excluded.cursor, "
    "updated_ms = excluded.updated_ms";

}  // namespace

InboundMessage KfItemToInbound(std::string_view app, std::string_view corp_id,
                               const nlohmann::json& item, int64_t received_at_ms) {
  InboundMessage m;
  m.channel = "wecom_kf";
  m.app = std::string(app);
  std::string msgid = item.value("msgid", std::string());
  std::string open_kfid = item.value("open_kfid", std::string());
  std::string user = item.value("external_userid", std::string());
  int origin = item.value("origin", 0);
  m.platform_msg_id = msgid;
  m.dedupe_key = "wecom_kf|" + std::string(corp_id) + "|" + msgid;
  m.msg_type = item.value("msgtype", std::string());
  if (m.msg_type == "event" && item.contains("event") && item["event"].is_object()) {
    m.event = item["event"].value("event_type", std::string());
    if (user.empty()) user = item["event"].value("external_userid", std::string());
    if (open_kfid.empty()) open_kfid = item["event"].value("open_kfid", std::string());
  }
  if (origin == 5) m.msg_type = "servicer_message";
  m.sender = user;
  m.conversation = "wecom_kf|" + m.app + "|" + open_kfid + "|" + user;
  if (item.value("msgtype", std::string()) == "text" && item.contains("text") &&
      item["text"].is_object()) {
    m.text = item["text"].value("content", std::string());
  }
  m.platform_time_ms = item.value("send_time", int64_t{0}) * 1000;
  m.received_at_ms = received_at_ms;
  m.payload = item.dump();
  m.reply_context = nlohmann::json{{"open_kfid", open_kfid}, {"touser", user}}.dump();
  return m;
}

KfSyncer::KfSyncer(std::string app, std::string corp_id, WecomApi& api, InboundRecorder& recorder,
                   storage::ReadPool& reads, HttpWorkerPool& pool, const Clock& clock)
    : app_(std::move(app)),
      corp_id_(std::move(corp_id)),
      api_(api),
      recorder_(recorder),
      reads_(reads),
      pool_(pool),
      clock_(clock) {}

void KfSyncer::Schedule(const std::string& open_kfid, const std::string& callback_token) {
  {
    std::lock_guard lock(mu_);
    if (running_.count(open_kfid)) {
      running_[open_kfid] = callback_token;
      rerun_.insert(open_kfid);
      return;
    }
    running_[open_kfid] = callback_token;
  }
  pool_.Post([this, open_kfid] {
    while (true) {
      std::string token;
      {
        std::lock_guard lock(mu_);
        token = running_[open_kfid];
        rerun_.erase(open_kfid);
      }
      auto n = SyncNow(open_kfid, token);
      if (!n.ok()) {
        spdlog::warn("kf sync failed app={} open_kfid={} error={}", app_, open_kfid,
                     n.status().ToString());
      }
      std::lock_guard lock(mu_);
      if (!rerun_.count(open_kfid)) {
        running_.erase(open_kfid);
        return;
      }
    }
  });
}

Result<int> KfSyncer::SyncNow(const std::string& open_kfid, const std::string& callback_token) {
  auto cursor = reads_.Read([&](storage::Database& db) -> Result<std::string> {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSelectCursor));
    KEFU_RETURN_IF_ERROR(st->BindAll(app_, open_kfid));
    KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
    return row ? st->ColumnText(0) : std::string();
  });
  if (!cursor.ok()) return cursor.status();
  std::string cur = *cursor;
  int total = 0;
  for (int page = 0; page < 10'000; ++page) {
    nlohmann::json body = {
        {"cursor", cur}, {"limit", 1000}, {"voice_format", 0}, {"open_kfid", open_kfid}};
    if (!callback_token.empty()) body["token"] = callback_token;
    KEFU_ASSIGN_OR_RETURN(ApiReply reply, api_.Post("/cgi-bin/kf/sync_msg", body));
    if (reply.errcode != 0) {
      return Unavailable("kf/sync_msg: " + std::to_string(reply.errcode) + " " + reply.errmsg);
    }
    std::vector<InboundMessage> msgs;
    std::vector<nlohmann::json> send_failures;  // msg_send_fail events of this page
    int64_t now = clock_.NowUnixMs();
    if (reply.body.contains("msg_list") && reply.body["msg_list"].is_array()) {
      for (const auto& item : reply.body["msg_list"]) {
        if (!item.is_object() || item.value("msgid", std::string()).empty()) continue;
        msgs.push_back(KfItemToInbound(app_, corp_id_, item, now));
        if (msgs.back().event == "msg_send_fail") send_failures.push_back(item);
      }
    }
    std::string next = reply.body.value("next_cursor", cur);
    std::promise<std::pair<Status, int>> done;
    recorder_.RecordBatch(
        std::move(msgs),
        [&, next, now](storage::Database& db) -> Status {
          for (const auto& item : send_failures) {
            const auto& ev = item["event"];
            std::string user = ev.value("external_userid", item.value("external_userid", ""));
            int64_t event_ms = item.value("send_time", int64_t{0}) * 1000;
            KEFU_RETURN_IF_ERROR(ApplyKfSendFailure(db, app_, user,
                                                    ev.value("fail_msgid", std::string()),
                                                    ev.value("fail_type", 0), event_ms, now)
                                     .status());
          }
          KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kUpsertCursor));
          KEFU_RETURN_IF_ERROR(st->BindAll(app_, open_kfid, next, now));
          return st->Run();
        },
        [&](Status s, int n) {
          done.set_value({s, n});
        });
    auto [s, n] = done.get_future().get();
    KEFU_RETURN_IF_ERROR(s);
    total += n;
    cur = next;
    if (reply.body.value("has_more", 0) != 1) break;
  }
  return total;
}

Result<std::vector<std::string>> KfSyncer::KnownKfIds() {
  return reads_.Read([&](storage::Database& db) -> Result<std::vector<std::string>> {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSelectKfIds));
    KEFU_RETURN_IF_ERROR(st->Bind(1, app_));
    std::vector<std::string> out;
    while (true) {
      KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      out.push_back(st->ColumnText(0));
    }
    return out;
  });
}

}  // namespace kefu::channels::wecom
