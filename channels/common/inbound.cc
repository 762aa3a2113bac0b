#include "channels/common/inbound.h"

#include <memory>

namespace kefu::channels {
namespace {

constexpr char kInsertInbound[] =
    "INSERT INTO channel_inbound(dedupe_key, channel, app, sender, conversation, msg_type, event, "
    "text, payload, reply_context, platform_msg_id, platform_time_ms, received_at_ms) "
    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(dedupe_key) DO NOTHING";
constexpr char kSelectUnprocessed[] =
    "SELECT id, dedupe_key, channel, app, sender, conversation, msg_type, event, text, payload, "
    "reply_context, platform_msg_id, platform_time_ms, received_at_ms FROM channel_inbound "
    "WHERE processed_at_ms IS NULL ORDER BY id LIMIT ?";
// channel_sender_latest replaces an index on channel_inbound(channel, app, sender, time): that
// index took a random leaf page per stored message (one more 4 KiB WAL frame per message in a
// commit group); the per-sender row is one row per sender, so a group's messages share its pages.
constexpr char kUpsertSenderLatest[] =
    "INSERT INTO channel_sender_latest(channel, sender, app, last_id, last_time_ms, "
    "reply_context) VALUES(?,?,?,?,?,?) ON CONFLICT(channel, sender, app) DO UPDATE SET "
    "last_id = excluded.last_id, reply_context = excluded.reply_context, "
    "last_time_ms = MAX(last_time_ms, excluded.last_time_ms)";
constexpr char kLastInbound[] =
    "SELECT last_time_ms FROM channel_sender_latest WHERE channel = ? AND sender = ? AND app = ?";
constexpr char kLatestContext[] =
    "SELECT app, reply_context FROM channel_sender_latest WHERE channel = ? AND sender = ? "
    "ORDER BY last_id DESC LIMIT 1";
constexpr char kMarkProcessed[] =
    "UPDATE channel_inbound SET processed_at_ms = ? WHERE id = ? AND processed_at_ms IS NULL";

}  // namespace

const std::vector<storage::Migration>& ChannelMigrations() {
  static const std::vector<storage::Migration> kMigrations = {
      {1, "inbound, outbox, kf cursors",
       R"sql(
CREATE TABLE channel_inbound(
  id INTEGER PRIMARY KEY,
  dedupe_key TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  app TEXT NOT NULL,
  sender TEXT NOT NULL,
  conversation TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  event TEXT NOT NULL,
  text TEXT NOT NULL,
  payload TEXT NOT NULL,
  reply_context TEXT NOT NULL,
  platform_msg_id TEXT NOT NULL,
  platform_time_ms INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  processed_at_ms INTEGER);
CREATE INDEX channel_inbound_unprocessed ON channel_inbound(id) WHERE processed_at_ms IS NULL;
CREATE INDEX channel_inbound_sender ON channel_inbound(channel, app, sender, platform_time_ms);
CREATE TABLE channel_outbox(
  id INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  app TEXT NOT NULL,
  destination TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  content TEXT NOT NULL,
  reply_context TEXT NOT NULL,
  inbound_id INTEGER,
  state TEXT NOT NULL CHECK(state IN ('pending', 'held', 'sent', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  sent_ms INTEGER);
CREATE INDEX channel_outbox_due ON channel_outbox(next_attempt_ms) WHERE state = 'pending';
CREATE INDEX channel_outbox_dest ON channel_outbox(channel, app, destination, state, sent_ms);
CREATE TABLE channel_kf_cursor(
  app TEXT NOT NULL,
  open_kfid TEXT NOT NULL,
  cursor TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY(app, open_kfid));
)sql"},
      // Cheaper ingest (docs/benchmarks.md, channels): the per-sender index becomes a per-sender
      // row (kept for every customer message: not for events or a 微信客服 servicer's own
      // messages), and WeCom app message keys start with the MsgId so that the unique index is
      // appended to, not written at a random page chosen by the sender. Same key parts (spec §6.1),
      // so stored keys are rewritten: a redelivery of a message stored before the migration is
      // still a duplicate.
      {2, "per-sender latest row, MsgId-first WeCom dedupe keys",
       R"sql(
CREATE TABLE channel_sender_latest(
  channel TEXT NOT NULL,
  sender TEXT NOT NULL,
  app TEXT NOT NULL,
  last_id INTEGER NOT NULL,
  last_time_ms INTEGER NOT NULL,
  reply_context TEXT NOT NULL,
  PRIMARY KEY(channel, sender, app)) WITHOUT ROWID;
INSERT INTO channel_sender_latest(channel, sender, app, last_id, last_time_ms, reply_context)
  SELECT g.channel, g.sender, g.app, g.last_id, g.last_time_ms, i.reply_context
  FROM (SELECT channel, sender, app, MAX(id) AS last_id, MAX(platform_time_ms) AS last_time_ms
        FROM channel_inbound WHERE msg_type NOT IN ('event', 'servicer_message')
        GROUP BY channel, sender, app) AS g
  JOIN channel_inbound AS i ON i.id = g.last_id;
DROP INDEX channel_inbound_sender;
UPDATE channel_inbound
  SET dedupe_key = 'wecom|' || platform_msg_id || '|' ||
      substr(dedupe_key, 7, length(dedupe_key) - 7 - length(platform_msg_id))
  WHERE channel = 'wecom' AND msg_type <> 'event' AND platform_msg_id <> '' AND
        substr(dedupe_key, 1, 6) = 'wecom|' AND
        substr(dedupe_key, -1 - length(platform_msg_id)) = '|' || platform_msg_id;
)sql"},
  };
  return kMigrations;
}

Status MigrateChannels(storage::Database& db) {
  return storage::ApplyMigrations(db, "channels", ChannelMigrations());
}

Result<std::optional<int64_t>> InsertInbound(storage::Database& db, const InboundMessage& m) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kInsertInbound));
  KEFU_RETURN_IF_ERROR(st->BindAll(m.dedupe_key, m.channel, m.app, m.sender, m.conversation,
                                   m.msg_type, m.event, m.text, m.payload, m.reply_context,
                                   m.platform_msg_id, m.platform_time_ms, m.received_at_ms));
  KEFU_RETURN_IF_ERROR(st->Run());
  if (db.Changes() == 0) return std::optional<int64_t>();
  int64_t id = db.LastInsertRowId();
  // Only what the customer sent: events and a human servicer's own messages (微信客服 origin 5)
  // neither open the kf window nor address a reply.
  if (m.msg_type != "event" && m.msg_type != "servicer_message") {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * latest, db.Prepare(kUpsertSenderLatest));
    KEFU_RETURN_IF_ERROR(
        latest->BindAll(m.channel, m.sender, m.app, id, m.platform_time_ms, m.reply_context));
    KEFU_RETURN_IF_ERROR(latest->Run());
  }
  return std::optional<int64_t>(id);
}

Result<std::vector<StoredInbound>> LoadUnprocessedInbound(storage::Database& db, int limit) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSelectUnprocessed));
  KEFU_RETURN_IF_ERROR(st->Bind(1, limit));
  std::vector<StoredInbound> out;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    StoredInbound s;
    s.id = st->ColumnInt64(0);
    InboundMessage& m = s.message;
    m.dedupe_key = st->ColumnText(1);
    m.channel = st->ColumnText(2);
    m.app = st->ColumnText(3);
    m.sender = st->ColumnText(4);
    m.conversation = st->ColumnText(5);
    m.msg_type = st->ColumnText(6);
    m.event = st->ColumnText(7);
    m.text = st->ColumnText(8);
    m.payload = st->ColumnText(9);
    m.reply_context = st->ColumnText(10);
    m.platform_msg_id = st->ColumnText(11);
    m.platform_time_ms = st->ColumnInt64(12);
    m.received_at_ms = st->ColumnInt64(13);
    out.push_back(std::move(s));
  }
  return out;
}

Status MarkInboundProcessed(storage::Database& db, int64_t id, int64_t now_ms) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kMarkProcessed));
  KEFU_RETURN_IF_ERROR(st->BindAll(now_ms, id));
  return st->Run();
}

void InboundRecorder::Record(InboundMessage m, std::function<void(RecordOutcome)> done) {
  bool post = false;
  {
    std::lock_guard lock(mu_);
    pending_.push_back(Pending{std::move(m), std::move(done), Status::Ok(), std::nullopt});
    post = !batch_posted_;
    batch_posted_ = true;
  }
  // Outside mu_: a stopped writer calls the done callback at once, and it takes mu_.
  if (post) PostBatch();
}

void InboundRecorder::TakePending(Batch& batch) {
  std::lock_guard lock(mu_);
  batch.items.swap(pending_);
  batch_posted_ = false;
}

void InboundRecorder::PostBatch() {
  auto batch = std::make_shared<Batch>();
  writer_.Post(
      [this, batch](storage::Database& db) -> Status {
        TakePending(*batch);
        batch->taken = true;
        for (Pending& p : batch->items) {
          auto id = InsertInbound(db, p.message);
          if (id.ok()) {
            p.id = *id;
            continue;
          }
          p.status = id.status();
          // Disk full or I/O errors may roll back the whole transaction: then nothing is kept.
          if (!db.InTransaction()) return p.status;
        }
        return Status::Ok();
      },
      [this, batch](Status s) {
        // The job never ran (BEGIN failed, writer stopped): fail the messages that waited for it.
        if (!batch->taken) TakePending(*batch);
        Finish(*batch, s);
      });
}

void InboundRecorder::Finish(Batch& batch, const Status& group) {
  for (Pending& p : batch.items) {
    RecordOutcome out;
    out.status = !group.ok() ? group : p.status;
    if (out.status.ok()) {
      out.duplicate = !p.id.has_value();
      if (p.id.has_value()) {
        out.id = *p.id;
        if (sink_) sink_->OnInbound(StoredInbound{out.id, std::move(p.message)});
      }
    }
    if (p.done) p.done(std::move(out));
  }
}

void InboundRecorder::RecordBatch(std::vector<InboundMessage> ms,
                                  std::function<Status(storage::Database&)> also,
                                  std::function<void(Status, int)> done) {
  auto msgs = std::make_shared<std::vector<InboundMessage>>(std::move(ms));
  auto ids = std::make_shared<std::vector<std::optional<int64_t>>>();
  writer_.Post(
      [msgs, ids, also = std::move(also)](storage::Database& db) -> Status {
        ids->clear();
        for (const auto& m : *msgs) {
          KEFU_ASSIGN_OR_RETURN(auto id, InsertInbound(db, m));
          ids->push_back(id);
        }
        if (also) KEFU_RETURN_IF_ERROR(also(db));
        return Status::Ok();
      },
      [this, msgs, ids, done = std::move(done)](Status s) {
        int fresh = 0;
        if (s.ok()) {
          for (size_t i = 0; i < ids->size(); ++i) {
            if (!(*ids)[i]) continue;
            ++fresh;
            if (sink_) sink_->OnInbound(StoredInbound{*(*ids)[i], std::move((*msgs)[i])});
          }
        }
        if (done) done(s, fresh);
      });
}

Status InboundRecorder::ResumeUnprocessed(storage::Database& db) {
  KEFU_ASSIGN_OR_RETURN(auto rows, LoadUnprocessedInbound(db, 1'000'000));
  for (const auto& r : rows) {
    if (sink_) sink_->OnInbound(r);
  }
  return Status::Ok();
}

Result<std::optional<int64_t>> LastInboundTime(storage::Database& db, std::string_view channel,
                                               std::string_view app, std::string_view sender) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kLastInbound));
  KEFU_RETURN_IF_ERROR(st->BindAll(channel, sender, app));
  KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(st->ColumnInt64(0));
}

Result<std::optional<std::pair<std::string, std::string>>> LatestReplyContext(
    storage::Database& db, std::string_view channel, std::string_view sender) {
  using Out = std::optional<std::pair<std::string, std::string>>;
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kLatestContext));
  KEFU_RETURN_IF_ERROR(st->BindAll(channel, sender));
  KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Out();
  return Out(std::make_pair(st->ColumnText(0), st->ColumnText(1)));
}

}  // namespace kefu::channels
