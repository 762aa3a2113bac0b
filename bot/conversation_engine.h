// ConversationEngine: runs the dialogue policy on stored inbound messages.
//
// Per message: the FAQ match is computed on an engine worker thread (CPU work off the writer),
// then, on the writer, the message's work runs in its own SAVEPOINT: mark the inbound row
// processed, record customer, conversation and message, apply the policy, open the hand-off
// ticket, store the replies and write them to the outbox, and save the conversation - all kept
// together or not at all. A failed message leaves its inbound row unprocessed (picked up again at
// the next start) and does not undo the other messages of its batch.
//
// Batching: matched messages of all conversations wait in one ready queue; at most one writer job
// is queued for them at a time, and when it runs it takes up to EngineOptions::max_batch of them
// (so one writer job and one share of the group COMMIT carry many messages instead of one job
// each). Messages arriving while that job waits for the writer join it; a full batch posts the
// next job at once.
//
// Pushes (no inbound message): as the desk's HandoffEvents subscriber, the engine tells a waiting
// customer "人工客服 {agent} 为您服务" the moment ticketing assigns their ticket (state ->
// with_agent), and re-announces queue positions when the queue moves meaningfully
// (DialoguePolicy::ShouldPushQueueMove). Each push is one writer job: the reply is stored as a
// conversation message and written to the outbox (key "bot:push:<conversation>:<message id>")
// with the conversation's latest reply context, together with the new dialogue state.
//
// Ordering: messages of one customer on one app always go to the same worker, which appends them
// to the ready queue in submission order; batches run one after another on the single writer in
// queue order, so a conversation's messages are processed strictly one after another in inbound
// order.
//
// Threads: Submit/Drain/Stop are thread-safe. Submit never blocks (it is called from channels'
// InboundSink on the writer thread). The ports outlive the engine. Worker threads are named
// "kefu-bot-match".
//
// Metrics: kefu_bot_messages_total{result="processed|duplicate|error"},
// kefu_bot_replies_total{purpose}, kefu_bot_handoffs_total{reason},
// kefu_bot_match_seconds (histogram), kefu_bot_queue_depth (gauge),
// kefu_bot_batch_messages (histogram: messages per writer job).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bot/dialogue_policy.h"
#include "bot/engine_ports.h"
#include "bot/sqlite_conversation_store.h"
#include "core/clock.h"
#include "storage/writer_executor.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace kefu::bot {

struct EngineOptions {
  // Worker threads computing matches (messages are sharded by customer).
  int workers = 1;
  // Candidates asked from the matcher.
  int match_top_k = 5;
  // Most messages processed in one writer job (>= 1). Bounds how long one job holds the writer
  // (and the webhook acknowledgements queued behind it).
  int max_batch = 64;
  // Called on the writer thread after each submitted message's job finished (its Status and
  // inbound id); for latency measurements. Must be quick.
  std::function<void(const Status&, int64_t inbound_id)> on_finished;
  // The name a customer hears for an agent ("人工客服 {agent} 为您服务"), looked up from the
  // ticket's assignee id inside the agent-joined writer job (kefud maps console usernames to their
  // display names). Empty, failing or returning "": the assignee id itself.
  std::function<Result<std::string>(storage::Database&, std::string_view assignee)> agent_name;
};

// What one processed message did (returned by ProcessNow, for tests and tools).
struct EngineOutcome {
  bool duplicate = false;  // already processed, or a redelivered platform message id
  ConversationId conversation_id;
  CustomerId customer_id;
  ConversationState state = ConversationState::kBot;
  std::vector<Reply> replies;
  // Set when this message opened a hand-off ticket inside the job (see HandoffTicket).
  std::optional<TicketId> ticket_id;
  std::optional<HandoffReason> handoff_reason;
  bool desk_work = false;  // the desk was asked to open a ticket or take a message
};

class ConversationEngine final : public InboundSubmitter, public HandoffEvents {
 public:
  ConversationEngine(storage::WriterExecutor& writer, DialoguePolicy policy,
                     const FaqMatcher& matcher, InboundLedger& ledger, ReplyOutbox& outbox,
                     HandoffDesk& desk, const Clock& clock, prometheus::Registry& registry,
                     EngineOptions options = {});
  // Stop().
  ~ConversationEngine();
  ConversationEngine(const ConversationEngine&) = delete;
  ConversationEngine& operator=(const ConversationEngine&) = delete;

  // Queues `m` for processing. Never blocks. After Stop() the message is dropped from memory (its
  // inbound row stays unprocessed and is resumed at the next start).
  void Submit(InboundMessage m) override;

  // HandoffEvents (writer thread, never blocks): post the push jobs described above. Queue
  // changes are coalesced: at most one queue scan is pending at a time.
  void AgentAssigned(ConversationId conversation, std::string agent) override;
  void QueueChanged() override;

  // Processes `m` now and blocks until committed. Must not run on the writer thread or an I/O
  // thread. Errors: the job's Status (nothing of it is kept).
  Result<EngineOutcome> ProcessNow(const InboundMessage& m);

  // Blocks until every message submitted before the call has been committed (or failed).
  void Drain();
  // Drains, then stops the workers. Idempotent.
  void Stop();

  const DialoguePolicy& policy() const { return policy_; }
  const SqliteConversationStore& store() const { return store_; }

 private:
  struct Worker {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<InboundMessage> queue;  // guarded by mu
    std::thread thread;
  };

  // A matched message waiting for its writer job.
  struct Ready {
    std::shared_ptr<const InboundMessage> message;
    std::optional<MatchResult> prematch;
    EngineOutcome outcome;
    Status status;  // the message's own result inside the batch job
  };
  // The messages one writer job took from ready_.
  struct Batch {
    std::vector<Ready> items;
    bool taken = false;  // the job ran and took its messages
  };

  void WorkerLoop(Worker& w);
  // Appends to ready_ and posts a batch job unless one is already queued.
  void Enqueue(Ready r);
  void PostBatch();
  // Moves up to max_batch ready messages into `batch`; posts the next job when more remain.
  void TakeReady(Batch& batch);
  // Runs on the writer: each message in its own SAVEPOINT.
  Status BatchJob(storage::Database& db, Batch& batch);
  void BatchDone(Batch& batch, const Status& group);
  // The match for `m` if the policy may need one (computed without the conversation state).
  std::optional<MatchResult> Prematch(const InboundMessage& m) const;
  Status Job(storage::Database& db, const InboundMessage& m,
             const std::optional<MatchResult>& prematch, EngineOutcome& out);
  void Finished(const Status& s, const EngineOutcome& out);
  // Stores `replies` as bot messages of `conv` and writes them to the outbox, addressed to
  // `destination` with `reply_context`; keys "bot:<inbound_id>:<n>" for an inbound message, else
  // "bot:push:<conversation>:<message id>". Advances conv.message_count/last_message_at (stored
  // by the caller's SaveTurn).
  Status EmitReplies(storage::Database& db, Conversation& conv, const std::string& app,
                     const std::string& destination, const std::string& reply_context,
                     std::optional<int64_t> inbound_id, const std::vector<Reply>& replies,
                     TimePoint now);
  // Push jobs (see the header comment); `out.replies` gets what was sent.
  Status AgentJoinedJob(storage::Database& db, ConversationId id, const std::string& agent,
                        EngineOutcome& out);
  Status QueueScanJob(storage::Database& db, EngineOutcome& out);
  Status Push(storage::Database& db, Conversation& conv, std::vector<Reply> replies,
              EngineOutcome& out);
  // Posts a push job, counted for Drain.
  void PostPush(std::function<Status(storage::Database&, EngineOutcome&)> job);

  storage::WriterExecutor& writer_;
  const DialoguePolicy policy_;
  const FaqMatcher& matcher_;
  InboundLedger& ledger_;
  ReplyOutbox& outbox_;
  HandoffDesk& desk_;
  const Clock& clock_;
  const EngineOptions options_;
  SqliteConversationStore store_;

  prometheus::Family<prometheus::Counter>& messages_;
  prometheus::Family<prometheus::Counter>& replies_;
  prometheus::Family<prometheus::Counter>& handoffs_;
  prometheus::Histogram* match_seconds_;
  prometheus::Gauge* queue_depth_;
  prometheus::Histogram* batch_messages_;

  std::vector<std::unique_ptr<Worker>> workers_;
  std::mutex ready_mu_;
  std::deque<Ready> ready_;    // guarded by ready_mu_
  bool batch_posted_ = false;  // guarded by ready_mu_: a job that will take ready_ is queued
  std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  uint64_t submitted_ = 0;  // guarded by pending_mu_
  uint64_t finished_ = 0;   // guarded by pending_mu_
  bool stopped_ = false;    // guarded by pending_mu_
  std::atomic<bool> subscribed_{false};
  std::atomic<bool> queue_scan_pending_{false};
};

}  // namespace kefu::bot
