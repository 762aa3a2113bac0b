// The durable outbox (DESIGN "life of a message" step 3): replies are rows, written in the same
// transaction that marks their inbound message processed, and sent by OutboxDispatcher with
// per-destination rate limits, exponential backoff with jitter, a maximum number of attempts and a
// dead-letter state carrying the platform's error.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "channels/common/http_client.h"
#include "channels/common/rate_limiter.h"
#include "core/clock.h"
#include "core/result.h"
#include "storage/database.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace kefu::channels {

// A reply to send. `idempotency_key` is unique: enqueueing the same key twice stores one row
// (e.g. "reply:<inbound_id>:<part>").
struct OutboundMessage {
  std::string channel;            // "wecom" | "wecom_kf" | "dingtalk"
  std::string app;                // configured app name
  std::string destination;        // recipient (UserID, external_userid, staffId or conversation id)
  std::string msg_type = "text";  // "text" | "markdown"
  std::string content;            // UTF-8; split by the channel at its byte limit
  std::string reply_context;      // copied from the inbound message (JSON)
  std::string idempotency_key;
  std::optional<int64_t> inbound_id;
};

enum class OutboxState { kPending, kHeld, kSent, kDead };
std::string_view OutboxStateName(OutboxState s);

struct OutboxRow {
  int64_t id = 0;
  OutboundMessage message;
  OutboxState state = OutboxState::kPending;
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  std::string last_error;  // the platform's error ("45009 api freq out of limit") or hold reason
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::optional<int64_t> sent_ms;
};

// Inserts a pending row due at `now_ms` unless the idempotency key exists (ON CONFLICT DO
// NOTHING). Returns the new id or nullopt for a duplicate. Call inside a writer job (the bot's
// transaction, through the app's adapter).
Result<std::optional<int64_t>> EnqueueOutbound(storage::Database& db, const OutboundMessage& m,
                                               int64_t now_ms);
// Rows in a state (or all when nullopt), newest first, for /api/v1/outbox.
Result<std::vector<OutboxRow>> ListOutbox(storage::Database& db, std::optional<OutboxState> state,
                                          int limit);
Result<OutboxRow> GetOutboxRow(storage::Database& db, int64_t id);
// Contents of the rows sent to (channel, app, destination) at or after `since_ms`, oldest first
// (a sender counts its platform sends from them: one row may have been split into several).
Result<std::vector<std::string>> SentContentsSince(storage::Database& db, std::string_view channel,
                                                   std::string_view app,
                                                   std::string_view destination, int64_t since_ms);

// What a channel sender reports for one attempt.
struct SendOutcome {
  enum class Kind {
    kSent,         // delivered (or, kf, maybe delivered: `error` notes it and is kept)
    kRetry,        // transient (timeout, 5xx, -1 busy): backoff and retry, counts an attempt
    kRateLimited,  // platform said too fast (45009/130101): wait `retry_at`, no attempt counted
    kHold,         // policy forbids sending now (kf 48 h / 5 messages): held and reported
    kDead,         // permanent (bad recipient, 40001, 95xxx): dead-letter with the error
  };
  Kind kind = Kind::kSent;
  std::string error;
  std::optional<TimePoint> retry_at;
};

// Port implemented by each channel adapter. Both calls run on a dispatcher worker thread; Send
// may block on HTTP.
class ChannelSender {
 public:
  virtual ~ChannelSender() = default;
  // Rate-limit keys for a row (all must have capacity before a send).
  virtual std::vector<std::pair<std::string, RateLimit>> Limits(const OutboxRow& row) = 0;
  // Platform calls Send makes for the row (one per split part); each counts against the limits.
  virtual int PlatformSends(const OutboxRow& /*row*/) { return 1; }
  // Policy check before a send (e.g. the kf 48 h / 5-message window), on a read connection.
  // A reason holds the row (state held, reason in last_error); nullopt lets it go.
  virtual std::optional<std::string> HoldReason(storage::Database& read_db, const OutboxRow& row,
                                                TimePoint now) = 0;
  // Sends. Called with the rows of one destination in id order, never concurrently for one
  // destination.
  virtual SendOutcome Send(const OutboxRow& row) = 0;
};

struct DispatcherOptions {
  int max_attempts = 8;                                   // then dead-letter
  std::chrono::milliseconds base_backoff{1000};           // first retry delay
  std::chrono::milliseconds max_backoff{10 * 60 * 1000};  // cap on the delay
  int batch = 200;                                        // rows read per round
  std::chrono::milliseconds poll_interval{1000};          // real-time wait between rounds
  size_t workers = 4;                                     // parallel destinations
};

// Delay before attempt `attempts + 1`: min(max, base * 2^(attempts-1)) scaled by a jitter factor
// in [0.5, 1.0] (`jitter01` in [0, 1]).
std::chrono::milliseconds BackoffDelay(const DispatcherOptions& o, int attempts, double jitter01);

// Reads due rows, applies rate limits, sends through the channel's sender on a worker pool and
// records each result through the writer. Rows of one destination go out in order, one at a time.
// Unsent rows survive crashes: at start they are simply due again. Metrics:
// kefu_channels_outbox_total{channel,result="sent|retry|rate_limited|held|dead"}.
class OutboxDispatcher {
 public:
  OutboxDispatcher(storage::WriterExecutor& writer, storage::ReadPool& reads, const Clock& clock,
                   prometheus::Registry& registry, DispatcherOptions options = {});
  ~OutboxDispatcher();
  OutboxDispatcher(const OutboxDispatcher&) = delete;
  OutboxDispatcher& operator=(const OutboxDispatcher&) = delete;

  // Registers the sender for rows of (channel, app). Not owned. Call before Start()/RunOnce().
  void AddSender(const std::string& channel, const std::string& app, ChannelSender* sender);
  // One round: sends every due row (respecting limits) and records results. Blocks until done.
  // Returns the number of rows sent. Used by Start()'s loop and by tests driving a FakeClock.
  int RunOnce();
  // Runs rounds on a background thread until Stop(); Notify() wakes it early (new rows).
  void Start();
  void Notify();
  void Stop();
  RateLimiter& limiter() { return limiter_; }

 private:
  Status Record(const OutboxRow& row, const SendOutcome& outcome, TimePoint now);
  void SendDestination(std::vector<OutboxRow> rows, int* sent);

  storage::WriterExecutor& writer_;
  storage::ReadPool& reads_;
  const Clock& clock_;
  DispatcherOptions options_;
  RateLimiter limiter_;
  std::map<std::string, ChannelSender*> senders_;
  prometheus::Family<prometheus::Counter>* results_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
  std::unique_ptr<HttpWorkerPool> pool_;
  std::mutex run_mu_;  // one RunOnce at a time, so a row is never in flight twice
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool notified_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kefu::channels
