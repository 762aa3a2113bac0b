// TicketService: the ticket lifecycle and the SLA engine over a TicketStore.
//
// Every operation is one unit of work on the store: it reads the ticket and its events, applies
// the status rules (spec §1), appends audit events, re-matches the SLA policy, re-evaluates every
// metric (spec §2), records due warnings and breaches exactly once (the store enforces it too),
// runs the policy's escalation actions, stores per-metric results and the next wake-up, and
// commits. After the commit (on the store's writer thread, in commit order) it tells the scheduler
// hook the ticket's next wake-up and hands notifications to the SlaNotifier port.
//
// Threads: thread-safe. The synchronous methods block until committed (never call them on an I/O
// thread; on the store's writer thread they fail with FailedPrecondition instead of deadlocking);
// the *Async methods never block and call back on the store's writer thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "ticketing/sla.h"
#include "ticketing/ticket.h"
#include "ticketing/ticket_store.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace kefu::ticketing {

struct TicketServiceOptions {
  // A customer message this long after `solved` opens a follow-up ticket instead of reopening.
  std::chrono::seconds reopen_window = std::chrono::hours(24 * 7);
  // Applied to the first message of a new ticket.
  std::vector<AutoPriorityRule> auto_priority;
};

struct NewTicket {
  std::string subject;
  std::string requester;
  std::string channel;
  ConversationId conversation;
  std::string group;
  std::string assignee;
  Priority priority = Priority::kNormal;
  std::vector<std::string> tags;
  std::vector<std::string> customer_tags;
  std::string first_message;  // recorded as the first customer message when not empty
};

struct TicketUpdate {
  std::optional<TicketStatus> status;
  std::optional<Priority> priority;
  std::optional<std::string> group;
  std::optional<std::string> assignee;
  std::optional<std::vector<std::string>> tags;
};

enum class CommentKind { kPublicReply, kInternalNote, kBotReply };

struct CustomerMessage {
  ConversationId conversation;
  std::string requester;
  std::string channel;
  std::string body;
  std::vector<std::string> customer_tags;
};

// An escalation "notify" action, delivered after commit (console, group robots plug in here).
struct SlaNotification {
  TicketId ticket;
  std::string kind;  // "warning" | "breach"
  SlaMetric metric = SlaMetric::kFirstResponse;
  int64_t instance = 0;
  TimePoint due{};
  std::string notify;  // the action's target: "assignee", "supervisors", a robot name
  std::string assignee;
  std::string group;
};

class SlaNotifier {
 public:
  virtual ~SlaNotifier() = default;
  // Called after commit on the store's writer thread; must be quick (post to another executor).
  virtual void Notify(const SlaNotification& notification) = 0;
};

class TicketService {
 public:
  using TicketCallback = std::function<void(Result<Ticket>)>;
  using WakeHook = std::function<void(TicketId, std::optional<TimePoint>)>;
  using ChangeHook = std::function<void(const Ticket&)>;

  // `store`, `clock`, `registry` and `notifier` (may be null) must outlive the service.
  TicketService(TicketStore& store, const Clock& clock,
                std::shared_ptr<const SlaPolicySet> policies, TicketServiceOptions options,
                prometheus::Registry& registry, SlaNotifier* notifier = nullptr);

  // Called after each commit with the ticket's next SLA wake-up (nullopt = none); the scheduler
  // sets it and clears it (nullptr) before it goes away.
  void SetWakeHook(WakeHook hook);
  // Called after each committed operation with the resulting ticket (assignment, status change,
  // comment, customer message, ...), on the store's writer thread in commit order; must be quick.
  // One subscriber (the bot's hand-off desk: "agent joined", queue position updates); nullptr
  // clears it.
  void SetChangeHook(ChangeHook hook);

  // Opens a ticket (status new) with auto-priority applied. InvalidArgument if requester or
  // channel is empty.
  Result<Ticket> Create(const NewTicket& ticket, const Actor& actor);
  void CreateAsync(NewTicket ticket, Actor actor, TicketCallback done);

  // Changes fields; each change is an audit event. NotFound for an unknown id,
  // FailedPrecondition for a transition CheckTransition refuses.
  Result<Ticket> Update(TicketId id, const TicketUpdate& update, const Actor& actor);
  void UpdateAsync(TicketId id, TicketUpdate update, Actor actor, TicketCallback done);

  // Adds a public agent reply (handed to the outbox in the same commit; moves `new` to `open`),
  // an internal note or a bot reply. InvalidArgument for an empty body; FailedPrecondition on a
  // closed ticket.
  Result<Ticket> Comment(TicketId id, CommentKind kind, const std::string& body,
                         const Actor& actor);
  void CommentAsync(TicketId id, CommentKind kind, std::string body, Actor actor,
                    TicketCallback done);

  // Merges `source` into `target` (Zammad-style): a `merged` event on both (merged_into /
  // merged_from), and `source` is closed by the merge (the one way to `closed` that skips
  // `solved`), which stops its SLA clocks; its events and messages stay on it, reachable from the
  // target's merged_from event. Later customer messages of the source's conversation go to the
  // target. Returns the target. InvalidArgument "target: ..." when both are the same ticket,
  // NotFound for an unknown id, FailedPrecondition when either is closed.
  Result<Ticket> Merge(TicketId source, TicketId target, const Actor& actor);

  // Records a customer message on the conversation's latest ticket: appends it, reopens the
  // ticket, or opens a follow-up ticket after `closed` / past the reopen window; a conversation
  // without a ticket gets its first one (the bot's hand-off). Call it only for conversations a
  // human handles. Returns the ticket that holds the message.
  Result<Ticket> OnCustomerMessage(const CustomerMessage& message);

  // Re-evaluates a ticket's SLA now (the scheduler's wake-up). NotFound for an unknown id.
  Result<Ticket> Evaluate(TicketId id);

  const SlaPolicySet& policies() const { return *policies_; }
  std::shared_ptr<const SlaPolicySet> policy_set() const { return policies_; }
  TicketStore& store() { return store_; }

 private:
  struct Effects;
  using Op = std::function<Result<Ticket>(TicketTx&, Effects&)>;

  Result<Ticket> RunSync(const Op& op);
  void RunAsync(Op op, TicketCallback done);
  void AfterCommit(const Effects& fx);

  Result<Ticket> DoCreate(TicketTx& tx, Effects& fx, const NewTicket& n, const Actor& actor,
                          TicketId follow_up_of);
  Result<Ticket> DoUpdate(TicketTx& tx, Effects& fx, TicketId id, const TicketUpdate& u,
                          const Actor& actor);
  Result<Ticket> DoComment(TicketTx& tx, Effects& fx, TicketId id, CommentKind kind,
                           const std::string& body, const Actor& actor);
  Result<Ticket> DoCustomerMessage(TicketTx& tx, Effects& fx, const CustomerMessage& m);
  Result<Ticket> DoMerge(TicketTx& tx, Effects& fx, TicketId source, TicketId target,
                         const Actor& actor);
  // Re-matches the policy, records due SLA events and escalations, stores results and the ticket.
  // `events` is the ticket's list from tx.Events (it grows with every event appended here).
  Status Settle(TicketTx& tx, Effects& fx, Ticket& t, const std::vector<TicketEvent>& events,
                TimePoint now);

  TicketStore& store_;
  const Clock& clock_;
  std::shared_ptr<const SlaPolicySet> policies_;
  TicketServiceOptions options_;
  SlaNotifier* notifier_;
  std::mutex hook_mu_;  // guards wake_hook_ (set by the scheduler, called on the writer thread)
  WakeHook wake_hook_;
  ChangeHook change_hook_;  // guarded by hook_mu_
  prometheus::Counter* warnings_;
  prometheus::Counter* breaches_;
  prometheus::Counter* ops_ok_;
  prometheus::Counter* ops_error_;
};

}  // namespace kefu::ticketing
