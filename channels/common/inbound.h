// Normalised inbound messages, their durable store (the dedupe store of spec §6.1) and the port
// through which stored messages reach the bot.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/writer_executor.h"

namespace kefu::channels {

// One message or event from a platform, after verification, decryption and parsing.
struct InboundMessage {
  std::string channel;          // "wecom" | "wecom_kf" | "dingtalk"
  std::string app;              // configured app name
  std::string dedupe_key;       // spec §6.1 key, unique across all channels
  std::string sender;           // UserID / external_userid / senderStaffId
  std::string conversation;     // stable key: "<channel>|<app>|<sender or group id>"
  std::string msg_type;         // text, image, voice, location, link, event, ...
  std::string event;            // Event name for msg_type == "event" (enter_agent, ...)
  std::string text;             // text for intent matching (trimmed), "" for non-text
  std::string payload;          // decrypted plaintext (XML or JSON) exactly as received
  std::string reply_context;    // JSON the reply path needs (sessionWebhook, open_kfid, ...)
  std::string platform_msg_id;  // MsgId / msgid / msgId, as a string (64-bit safe)
  int64_t platform_time_ms = 0;
  int64_t received_at_ms = 0;
};

struct StoredInbound {
  int64_t id = 0;
  InboundMessage message;
};

// The channels module's tables (module name "channels" in schema_migrations).
const std::vector<storage::Migration>& ChannelMigrations();
// ApplyMigrations(db, "channels", ChannelMigrations()).
Status MigrateChannels(storage::Database& db);

// Inserts `m` unless its dedupe_key exists (INSERT ... ON CONFLICT DO NOTHING) and, for a new
// customer message (not an event, not a 微信客服 "servicer_message"), updates its sender's row
// (LastInboundTime, LatestReplyContext). Returns the new row id, or nullopt for a duplicate. Call
// inside a writer job (both writes commit together).
Result<std::optional<int64_t>> InsertInbound(storage::Database& db, const InboundMessage& m);
// Unprocessed rows in id order (oldest first), at most `limit`.
Result<std::vector<StoredInbound>> LoadUnprocessedInbound(storage::Database& db, int limit);
// Marks a row processed; the bot calls this in the transaction that writes its replies.
Status MarkInboundProcessed(storage::Database& db, int64_t id, int64_t now_ms);

// Port consumed by the conversation engine (wired by the app). OnInbound is called once per newly
// stored message, on the storage writer thread right after its commit, and at start for every
// unprocessed row. Implementations must only enqueue (no blocking, no Run()).
class InboundSink {
 public:
  virtual ~InboundSink() = default;
  virtual void OnInbound(const StoredInbound& message) = 0;
};

// What a callback handler learns after recording.
struct RecordOutcome {
  Status status;           // not ok: nothing was stored (answer 503 so the platform retries)
  bool duplicate = false;  // the dedupe key existed: acknowledge, do nothing
  int64_t id = 0;          // row id when newly stored
};

// Posts inserts to the writer and calls `done` after the commit (acknowledge only then). Extra
// work (e.g. a kf cursor) can be added to the same transaction through `also`. Thread-safe.
//
// Group commit: Record() calls that arrive while a batch is waiting for the writer join that batch,
// so one writer job (one SAVEPOINT, one share of the group COMMIT) inserts all of them. Each
// message still gets its own outcome: a failed INSERT is undone by SQLite alone (statement
// atomicity) and answers that message with the error, while the others of the batch are stored;
// when the transaction or its COMMIT fails, every message of the batch gets the error and none is
// stored.
class InboundRecorder {
 public:
  InboundRecorder(storage::WriterExecutor& writer, InboundSink* sink)
      : writer_(writer), sink_(sink) {}
  // `done` runs on the writer thread after the COMMIT (or on the caller's thread with kUnavailable
  // when the writer is stopped); it must be quick.
  void Record(InboundMessage m, std::function<void(RecordOutcome)> done);
  // Records several messages in one job (kf sync pages) plus `also` (runs in the same
  // transaction); `done` gets the count of new rows.
  void RecordBatch(std::vector<InboundMessage> ms, std::function<Status(storage::Database&)> also,
                   std::function<void(Status, int)> done);
  void set_sink(InboundSink* sink) { sink_ = sink; }
  // Calls the sink for every unprocessed row (at start). Runs on the caller's thread using `db`.
  Status ResumeUnprocessed(storage::Database& db);

 private:
  struct Pending {
    InboundMessage message;
    std::function<void(RecordOutcome)> done;
    Status status;              // this message's own INSERT result
    std::optional<int64_t> id;  // new row id; nullopt: duplicate (or not inserted)
  };
  struct Batch {
    std::vector<Pending> items;
    bool taken = false;  // the writer job ran and took the pending messages
  };
  void PostBatch();
  // Moves the waiting messages into `batch` (they no longer wait for a job). Thread-safe.
  void TakePending(Batch& batch);
  void Finish(Batch& batch, const Status& group);

  storage::WriterExecutor& writer_;
  InboundSink* sink_;
  std::mutex mu_;
  std::vector<Pending> pending_;  // guarded by mu_
  bool batch_posted_ = false;     // guarded by mu_: a job that will take pending_ is queued
};

}  // namespace kefu::channels

namespace kefu::channels {
// (app, reply_context) of the latest (highest id) customer message stored from `sender` on
// `channel`, or nullopt. Used to address replies that start elsewhere (an agent's reply from a
// ticket).
Result<std::optional<std::pair<std::string, std::string>>> LatestReplyContext(
    storage::Database& db, std::string_view channel, std::string_view sender);
// Latest platform time (ms) of the customer messages stored from `sender` on (channel, app), or
// nullopt when there is none. Events and 微信客服 servicer messages (origin 5, a human agent
// writing in the WeCom client) do not count: the kf window runs from the customer's last message.
Result<std::optional<int64_t>> LastInboundTime(storage::Database& db, std::string_view channel,
                                               std::string_view app, std::string_view sender);
}  // namespace kefu::channels
