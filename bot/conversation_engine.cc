#include "bot/conversation_engine.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <utility>

namespace kefu::bot {
namespace {

// One message's work inside a batch job (cached statements, fixed name: savepoints nest).
constexpr std::string_view kSavepoint = "SAVEPOINT kefu_bot_message";
constexpr std::string_view kRelease = "RELEASE kefu_bot_message";
constexpr std::string_view kRollbackTo = "ROLLBACK TO kefu_bot_message";

Status RunStatement(storage::Database& db, std::string_view sql) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(sql));
  return st->Run();
}

PolicyInput ToPolicyInput(const InboundMessage& m, TimePoint now) {
  PolicyInput in;
  in.type = ParseInboundType(m.msg_type);
  in.text = m.text;
  in.event = m.event;
  in.button = m.button;
  in.channel = m.channel;
  in.now = now;
  return in;
}

// What the transcript shows for a non-text message ("[image]", "[event:enter_agent]").
std::string InboundContent(const InboundMessage& m) {
  if (m.msg_type == "text") return m.text;
  if (m.msg_type == "event") return "[event:" + m.event + "]";
  if (m.msg_type == "button") return "[button:" + m.button + "]";
  if (!m.text.empty()) return m.text;
  return "[" + m.msg_type + "]";
}

}  // namespace

ConversationEngine::ConversationEngine(storage::WriterExecutor& writer, DialoguePolicy policy,
                                       const FaqMatcher& matcher, InboundLedger& ledger,
                                       ReplyOutbox& outbox, HandoffDesk& desk, const Clock& clock,
                                       prometheus::Registry& registry, EngineOptions options)
    : writer_(writer),
      policy_(std::move(policy)),
      matcher_(matcher),
      ledger_(ledger),
      outbox_(outbox),
      desk_(desk),
      clock_(clock),
      options_(options),
      messages_(prometheus::BuildCounter()
                    .Name("kefu_bot_messages_total")
                    .Help("Inbound messages the conversation engine finished, by result")
                    .Register(registry)),
      replies_(prometheus::BuildCounter()
                   .Name("kefu_bot_replies_total")
                   .Help("Bot replies written to the outbox, by purpose")
                   .Register(registry)),
      handoffs_(prometheus::BuildCounter()
                    .Name("kefu_bot_handoffs_total")
                    .Help("Hand-offs to a human agent, by reason")
                    .Register(registry)),
      match_seconds_(
          &prometheus::BuildHistogram()
               .Name("kefu_bot_match_seconds")
               .Help("FAQ matcher latency per inbound message")
               .Register(registry)
               .Add({},
                    prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                            0.005, 0.01, 0.025, 0.05, 0.1})),
      queue_depth_(&prometheus::BuildGauge()
                        .Name("kefu_bot_queue_depth")
                        .Help("Inbound messages submitted to the engine and not yet committed")
                        .Register(registry)
                        .Add({})),
      batch_messages_(&prometheus::BuildHistogram()
                           .Name("kefu_bot_batch_messages")
                           .Help("Inbound messages processed in one writer job")
                           .Register(registry)
                           .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64,
                                                                            128, 256})) {
  const int n = options_.workers < 1 ? 1 : options_.workers;
  for (int i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>());
  }
  for (auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { WorkerLoop(*raw); });
  }
  desk_.Subscribe(this);
  subscribed_ = true;
}

ConversationEngine::~ConversationEngine() {
  Stop();
}

void ConversationEngine::Submit(InboundMessage m) {
  {
    std::lock_guard lock(pending_mu_);
    if (stopped_) return;
    ++submitted_;
    queue_depth_->Set(static_cast<double>(submitted_ - finished_));
  }
  const std::size_t shard =
      std::hash<std::string>{}(m.channel + '|' + m.app + '|' + m.sender) % workers_.size();
  Worker& w = *workers_[shard];
  {
    std::lock_guard lock(w.mu);
    w.queue.push_back(std::move(m));
  }
  w.cv.notify_one();
}

void ConversationEngine::WorkerLoop(Worker& w) {
  pthread_setname_np(pthread_self(), "kefu-bot-match");
  while (true) {
    InboundMessage m;
    {
      std::unique_lock lock(w.mu);
      w.cv.wait(lock, [&] {
        if (!w.queue.empty()) return true;
        std::lock_guard pending(pending_mu_);
        return stopped_;
      });
      if (w.queue.empty()) return;
      m = std::move(w.queue.front());
      w.queue.pop_front();
    }
    Ready r;
    r.prematch = Prematch(m);
    r.message = std::make_shared<const InboundMessage>(std::move(m));
    Enqueue(std::move(r));
  }
}

void ConversationEngine::Enqueue(Ready r) {
  bool post = false;
  {
    std::lock_guard lock(ready_mu_);
    ready_.push_back(std::move(r));
    post = !batch_posted_;
    batch_posted_ = true;
  }
  // Outside ready_mu_: a stopped writer calls the done callback at once, and it takes ready_mu_.
  if (post) PostBatch();
}

void ConversationEngine::PostBatch() {
  auto batch = std::make_shared<Batch>();
  writer_.Post([this, batch](storage::Database& db) { return BatchJob(db, *batch); },
               [this, batch](Status s) {
                 // The job never ran (BEGIN failed, writer stopped): fail the messages it would
                 // have taken (their inbound rows stay unprocessed).
                 if (!batch->taken) TakeReady(*batch);
                 BatchDone(*batch, s);
               });
}

void ConversationEngine::TakeReady(Batch& batch) {
  bool more = false;
  {
    std::lock_guard lock(ready_mu_);
    const std::size_t limit = static_cast<std::size_t>(std::max(1, options_.max_batch));
    const std::size_t n = std::min(limit, ready_.size());
    batch.items.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.items.push_back(std::move(ready_.front()));
      ready_.pop_front();
    }
    more = !ready_.empty();
    if (!more) batch_posted_ = false;
  }
  // The rest goes to the next job (batch_posted_ stays true), queued behind this one.
  if (more) PostBatch();
}

Status ConversationEngine::BatchJob(storage::Database& db, Batch& batch) {
  TakeReady(batch);
  batch.taken = true;
  batch_messages_->Observe(static_cast<double>(batch.items.size()));
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    Ready& r = batch.items[i];
    r.outcome = EngineOutcome{};
    Status s = RunStatement(db, kSavepoint);
    if (s.ok()) {
      try {
        s = Job(db, *r.message, r.prematch, r.outcome);
      } catch (const std::exception& e) {
        s = Internal(std::string("bot: message job threw: ") + e.what());
      } catch (...) {
        s = Internal("bot: message job threw a non-standard exception");
      }
      // Disk full or I/O errors make SQLite roll back the whole transaction: nothing of this
      // batch is kept, so the writer reports the error to every message.
      if (!db.InTransaction()) {
        return s.ok() ? Internal("bot: transaction rolled back by SQLite") : s;
      }
      if (s.ok()) {
        s = RunStatement(db, kRelease);
      } else {
        Status undo = RunStatement(db, kRollbackTo);
        if (undo.ok()) undo = RunStatement(db, kRelease);
        if (!undo.ok()) return undo;  // the batch's state is unknown: undo all of it
      }
    }
    db.ResetAllStatements();
    r.status = std::move(s);
  }
  return Status::Ok();
}

void ConversationEngine::BatchDone(Batch& batch, const Status& group) {
  for (Ready& r : batch.items) {
    // A message that failed on its own keeps its own error; the others get the group's result.
    const Status s = !group.ok() ? group : r.status;
    if (!s.ok()) {
      spdlog::error("bot job failed inbound_id={} channel={} app={} error={}",
                    r.message->inbound_id, r.message->channel, r.message->app, s.ToString());
    }
    Finished(s, r.outcome);
    if (options_.on_finished) options_.on_finished(s, r.message->inbound_id);
  }
}

std::optional<MatchResult> ConversationEngine::Prematch(const InboundMessage& m) const {
  // Matching depends only on the text, so it runs here, off the writer thread. The policy decides
  // later (with the conversation state) whether the match is used.
  const auto query = policy_.MatchQuery(DialogueState{}, ToPolicyInput(m, TimePoint{}));
  if (!query) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  auto r = matcher_.Match(*query, m.channel, options_.match_top_k);
  match_seconds_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!r.ok()) {
    spdlog::warn("bot match failed inbound_id={} error={}", m.inbound_id, r.status().ToString());
    return std::nullopt;
  }
  return std::move(r).value();
}

Status ConversationEngine::Job(storage::Database& db, const InboundMessage& m,
                               const std::optional<MatchResult>& prematch, EngineOutcome& out) {
  const TimePoint now = clock_.Now();
  KEFU_ASSIGN_OR_RETURN(const bool fresh, ledger_.MarkProcessed(db, m.inbound_id, now));
  if (!fresh) {
    out.duplicate = true;
    return Status::Ok();
  }
  const std::string source = !m.source.empty()       ? m.source
                             : m.msg_type == "event" ? m.channel + ":event:" + m.event
                                                     : m.channel + ":" + m.msg_type;
  KEFU_ASSIGN_OR_RETURN(Customer customer, store_.UpsertCustomer(db, {m.channel, m.app, m.sender},
                                                                 m.display_name, source, now));
  KEFU_ASSIGN_OR_RETURN(Conversation conv, store_.OpenConversation(db, customer, now));
  out.customer_id = customer.id;
  out.conversation_id = conv.id;
  out.state = conv.state();

  ConversationMessage in;
  in.conversation_id = conv.id;
  in.direction = Direction::kInbound;
  in.sender = SenderKind::kCustomer;
  in.sender_id = m.sender;
  in.type = m.msg_type.empty() ? "text" : m.msg_type;
  in.content = InboundContent(m);
  in.platform_msg_id = m.platform_msg_id;
  if (m.platform_time_ms > 0) in.platform_time = FromUnixMs(m.platform_time_ms);
  auto stored_in = store_.InsertMessage(db, in, conv.message_count + 1, now);
  if (!stored_in.ok()) {
    if (stored_in.status().code() != StatusCode::kAlreadyExists) return stored_in.status();
    out.duplicate = true;  // the same platform message under another dedupe key
    return Status::Ok();
  }
  ++conv.message_count;
  conv.last_message_at = now;

  if (!m.reply_context.empty()) conv.reply_context = m.reply_context;
  PolicyInput input = ToPolicyInput(m, now);
  const ServiceWindow window = desk_.WindowFor(conv, now);
  // A handed-off conversation follows its ticket: an agent took it, or it was solved/closed and
  // the bot answers again (as after `closed`).
  std::vector<Reply> before;
  const ConversationState owned = conv.state();
  if ((owned == ConversationState::kWaitingAgent || owned == ConversationState::kWithAgent) &&
      input.type != InboundType::kEvent) {
    KEFU_ASSIGN_OR_RETURN(const HumanOwnership who, desk_.Ownership(db, conv));
    if (who.kind == HumanOwnership::Kind::kReleased) {
      conv.dialogue.state = ConversationState::kClosed;
    } else if (who.kind == HumanOwnership::Kind::kAgent &&
               owned == ConversationState::kWaitingAgent) {
      conv.dialogue.state = ConversationState::kWithAgent;
      before.push_back(policy_.AgentJoined(who.agent));
    }
  }
  if (conv.state() == ConversationState::kWaitingAgent && input.type != InboundType::kEvent) {
    KEFU_ASSIGN_OR_RETURN(input.queue_position, desk_.QueuePosition(db, conv));
  }
  MatchResult match;
  if (const auto query = policy_.MatchQuery(conv.dialogue, input)) {
    if (prematch) {
      match = *prematch;
    } else {
      KEFU_ASSIGN_OR_RETURN(match, matcher_.Match(*query, m.channel, options_.match_top_k));
    }
  }
  Decision d = policy_.Decide(conv.dialogue, input, match, window);
  d.replies.insert(d.replies.begin(), before.begin(), before.end());

  if (d.handoff) {
    KEFU_ASSIGN_OR_RETURN(std::vector<ConversationMessage> transcript,
                          store_.ListMessages(db, conv.id));
    Conversation handed = conv;
    handed.dialogue = d.next;
    HandoffRequest req{customer, handed, std::move(transcript), *d.handoff, now};
    KEFU_ASSIGN_OR_RETURN(const HandoffTicket ticket, desk_.OpenHandoff(db, req));
    if (ticket.ticket_id) conv.ticket_id = ticket.ticket_id;
    out.ticket_id = ticket.ticket_id;
    out.desk_work = true;
    DialoguePolicy::FillQueuePosition(d, ticket.queue_position);
  } else if (d.repeat_queue_position) {
    KEFU_ASSIGN_OR_RETURN(const int position, desk_.QueuePosition(db, conv));
    DialoguePolicy::FillQueuePosition(d, position);
  }
  if (d.forward_to_agent) {
    KEFU_RETURN_IF_ERROR(desk_.AppendCustomerMessage(db, conv, *stored_in));
    out.desk_work = true;
  }
  if (d.feedback) {
    KEFU_RETURN_IF_ERROR(
        store_.RecordFeedback(db, conv.id, d.feedback->faq_id, d.feedback->helpful, now));
  }

  KEFU_RETURN_IF_ERROR(
      EmitReplies(db, conv, m.app, m.sender, m.reply_context, m.inbound_id, d.replies, now));

  conv.dialogue = d.next;
  conv.updated_at = now;
  KEFU_RETURN_IF_ERROR(store_.SaveTurn(db, conv));
  out.state = conv.state();
  out.replies = std::move(d.replies);
  if (d.handoff) out.handoff_reason = d.handoff->reason;
  return Status::Ok();
}

Status ConversationEngine::EmitReplies(storage::Database& db, Conversation& conv,
                                       const std::string& app, const std::string& destination,
                                       const std::string& reply_context,
                                       std::optional<int64_t> inbound_id,
                                       const std::vector<Reply>& replies, TimePoint now) {
  for (std::size_t k = 0; k < replies.size(); ++k) {
    const Reply& reply = replies[k];
    ConversationMessage msg;
    msg.conversation_id = conv.id;
    msg.direction = Direction::kOutbound;
    msg.sender = SenderKind::kBot;
    msg.type = std::string(ReplyFormatName(reply.format));
    msg.content = reply.text;
    KEFU_ASSIGN_OR_RETURN(const ConversationMessage stored,
                          store_.InsertMessage(db, msg, conv.message_count + 1, now));
    ++conv.message_count;
    conv.last_message_at = now;
    OutboundReply o;
    o.channel = conv.channel;
    o.app = app;
    o.destination = destination;
    o.reply_context = reply_context;
    o.idempotency_key = inbound_id ? "bot:" + std::to_string(*inbound_id) + ":" + std::to_string(k)
                                   : "bot:push:" + conv.id.ToString() + ":" + stored.id.ToString();
    o.inbound_id = inbound_id;
    o.conversation_id = conv.id;
    o.message_id = stored.id;
    o.reply = reply;
    KEFU_RETURN_IF_ERROR(outbox_.Enqueue(db, o));
  }
  return Status::Ok();
}

void ConversationEngine::AgentAssigned(ConversationId conversation, std::string agent) {
  PostPush(
      [this, conversation, agent = std::move(agent)](storage::Database& db, EngineOutcome& out) {
        return AgentJoinedJob(db, conversation, agent, out);
      });
}

void ConversationEngine::QueueChanged() {
  if (queue_scan_pending_.exchange(true)) return;
  PostPush([this](storage::Database& db, EngineOutcome& out) { return QueueScanJob(db, out); });
}

void ConversationEngine::PostPush(std::function<Status(storage::Database&, EngineOutcome&)> job) {
  {
    std::lock_guard lock(pending_mu_);
    if (stopped_) return;
    ++submitted_;
  }
  auto out = std::make_shared<EngineOutcome>();
  writer_.Post(
      [job = std::move(job), out](storage::Database& db) {
        *out = EngineOutcome{};
        return job(db, *out);
      },
      [this, out](Status s) {
        if (!s.ok()) {
          spdlog::error("bot push failed error={}", s.ToString());
        } else {
          for (const Reply& r : out->replies) {
            replies_.Add({{"purpose", std::string(ReplyPurposeName(r.purpose))}}).Increment();
          }
        }
        std::lock_guard lock(pending_mu_);
        ++finished_;
        pending_cv_.notify_all();
      });
}

Status ConversationEngine::Push(storage::Database& db, Conversation& conv,
                                std::vector<Reply> replies, EngineOutcome& out) {
  const TimePoint now = clock_.Now();
  KEFU_ASSIGN_OR_RETURN(const auto customer, store_.FindCustomer(db, conv.customer_id));
  if (!customer) return NotFound("customer " + conv.customer_id.ToString());
  KEFU_RETURN_IF_ERROR(EmitReplies(db, conv, conv.app, customer->external_id, conv.reply_context,
                                   std::nullopt, replies, now));
  conv.updated_at = now;
  KEFU_RETURN_IF_ERROR(store_.SaveTurn(db, conv));
  out.conversation_id = conv.id;
  out.customer_id = conv.customer_id;
  out.state = conv.state();
  out.replies.insert(out.replies.end(), replies.begin(), replies.end());
  return Status::Ok();
}

Status ConversationEngine::AgentJoinedJob(storage::Database& db, ConversationId id,
                                          const std::string& agent, EngineOutcome& out) {
  KEFU_ASSIGN_OR_RETURN(std::optional<Conversation> conv, store_.FindConversation(db, id));
  // Only a waiting conversation is told (once): with_agent already heard it, bot/closed are not
  // handed off (a ticket opened by an agent for this customer).
  if (!conv || conv->state() != ConversationState::kWaitingAgent) return Status::Ok();
  conv->dialogue.state = ConversationState::kWithAgent;
  std::string name = agent;
  if (options_.agent_name) {
    Result<std::string> display = options_.agent_name(db, agent);
    if (display.ok() && !display->empty()) name = std::move(*display);
  }
  return Push(db, *conv, {policy_.AgentJoined(name)}, out);
}

Status ConversationEngine::QueueScanJob(storage::Database& db, EngineOutcome& out) {
  // Cleared first: a queue change while this job runs posts another scan.
  queue_scan_pending_.store(false);
  ConversationFilter f;
  f.state = ConversationState::kWaitingAgent;
  f.limit = 500;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(std::vector<Conversation> page, store_.ListConversations(db, f));
    for (Conversation& conv : page) {
      KEFU_ASSIGN_OR_RETURN(const int position, desk_.QueuePosition(db, conv));
      if (!policy_.ShouldPushQueueMove(conv.dialogue.announced_position, position)) continue;
      conv.dialogue.announced_position = position;
      KEFU_RETURN_IF_ERROR(Push(db, conv, {policy_.QueueUpdate(position)}, out));
    }
    if (page.size() < static_cast<std::size_t>(f.limit)) break;
    f.before_id = page.back().id.value();
  }
  return Status::Ok();
}

void ConversationEngine::Finished(const Status& s, const EngineOutcome& out) {
  if (!s.ok()) {
    messages_.Add({{"result", "error"}}).Increment();
  } else if (out.duplicate) {
    messages_.Add({{"result", "duplicate"}}).Increment();
  } else {
    messages_.Add({{"result", "processed"}}).Increment();
    for (const Reply& r : out.replies) {
      replies_.Add({{"purpose", std::string(ReplyPurposeName(r.purpose))}}).Increment();
    }
    if (out.handoff_reason) {
      handoffs_.Add({{"reason", std::string(HandoffReasonName(*out.handoff_reason))}}).Increment();
      spdlog::info("bot hand-off conversation_id={} reason={}", out.conversation_id.value(),
                   HandoffReasonName(*out.handoff_reason));
    }
  }
  if (s.ok() && out.desk_work) desk_.Committed();
  if (s.ok() && !out.replies.empty()) outbox_.Committed();
  std::lock_guard lock(pending_mu_);
  ++finished_;
  queue_depth_->Set(static_cast<double>(submitted_ - finished_));
  pending_cv_.notify_all();
}

Result<EngineOutcome> ConversationEngine::ProcessNow(const InboundMessage& m) {
  const std::optional<MatchResult> prematch = Prematch(m);
  EngineOutcome out;
  const Status s = writer_.Run([&](storage::Database& db) {
    out = EngineOutcome{};
    return Job(db, m, prematch, out);
  });
  {
    std::lock_guard lock(pending_mu_);
    ++submitted_;
  }
  Finished(s, out);
  if (!s.ok()) return s;
  return out;
}

void ConversationEngine::Drain() {
  std::unique_lock lock(pending_mu_);
  const uint64_t target = submitted_;
  pending_cv_.wait(lock, [&] { return finished_ >= target; });
}

void ConversationEngine::Stop() {
  // Not under pending_mu_: the desk's hook holds ticketing's lock while it calls PostPush.
  if (subscribed_.exchange(false)) desk_.Subscribe(nullptr);
  Drain();
  {
    std::lock_guard lock(pending_mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  for (auto& w : workers_) {
    { std::lock_guard lock(w->mu); }
    w->cv.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

}  // namespace kefu::bot
