// TicketStore: the persistence port of the ticketing module (adapter: SqliteTicketStore).
//
// Writes happen in units of work (TicketTx): a function that reads and writes one or more tickets
// with exclusive write access and is committed atomically (and durably) before its completion
// callback runs. Reads outside a unit of work see a committed snapshot.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "ticketing/sla.h"
#include "ticketing/ticket.h"

namespace kefu::ticketing {

// Stored per ticket and metric instance, so reports need no rescans of events.
struct MetricResult {
  TicketId ticket;
  SlaMetric metric = SlaMetric::kFirstResponse;
  int64_t instance = 0;
  std::string policy;
  Priority priority = Priority::kNormal;
  std::string group;
  bool business_hours = true;
  TimePoint start{};
  std::optional<TimePoint> due;  // unset while paused
  std::optional<TimePoint> fulfilled_at;
  int64_t target_minutes = 0;
  int64_t actual_minutes = 0;
  bool breached = false;
  int64_t late_by_minutes = 0;
  MetricState state = MetricState::kActive;
};

// A public agent reply to send to the customer through the channels' durable outbox.
struct OutboundReply {
  TicketId ticket;
  int64_t event_id = 0;  // the agent_reply event; unique per reply (use as the dedupe key)
  ConversationId conversation;
  std::string channel;
  std::string requester;
  std::string body;
  std::string agent;
};

struct TicketFilter {
  std::optional<TicketStatus> status;
  std::optional<Priority> priority;
  std::optional<std::string> group;
  std::optional<std::string> assignee;
  std::optional<std::string> sla_state;  // ok | warning | breached
  std::optional<std::string> text;       // substring of subject or requester
  int64_t after_id = 0;                  // keyset pagination: ids greater than this
  int limit = 50;
};

struct MetricQuery {
  TimePoint from{};  // metric instances started in [from, to)
  TimePoint to = TimePoint::max();
  std::optional<std::string> group;
};

class TicketTx {
 public:
  virtual ~TicketTx() = default;
  // NotFound "ticket <id> not found".
  virtual Result<Ticket> Get(TicketId id) = 0;
  // All events of a ticket in append order, including those appended in this unit of work (Append
  // extends the list). Bodies may be empty (the engine never needs them; TicketStore::Events has
  // them). The list is owned by the unit of work and valid until it ends.
  virtual Result<const std::vector<TicketEvent>*> Events(TicketId id) = 0;
  // The newest ticket of a conversation, if any.
  virtual Result<std::optional<Ticket>> LatestForConversation(ConversationId conversation) = 0;
  // Inserts a ticket (its id is ignored) and returns the new id.
  virtual Result<TicketId> Insert(const Ticket& ticket) = 0;
  // Writes every mutable column of an existing ticket and bumps its version. InvalidArgument if
  // the conversation differs from the stored one (it never changes).
  virtual Status Update(const Ticket& ticket) = 0;
  // Appends an event and returns its id. AlreadyExists if the same SLA warning/breach (ticket,
  // kind, metric, instance) is already recorded: each fires once.
  virtual Result<int64_t> Append(const TicketEvent& event) = 0;
  // Replaces the stored metric results of a ticket (rows of instances no longer present are
  // removed). The running actual/late-by of a still-open instance is refreshed only together with
  // another change to that instance; it is exact once the instance is fulfilled.
  virtual Status PutMetrics(TicketId id, const std::vector<MetricResult>& results) = 0;
  // Hands a public reply to the outbox inside this unit of work (FailedPrecondition if no sink).
  virtual Status EnqueueReply(const OutboundReply& reply) = 0;
};

class TicketStore {
 public:
  using Work = std::function<Status(TicketTx&)>;
  virtual ~TicketStore() = default;

  // Runs `work` with exclusive write access; `done` gets Ok once the work is durably committed,
  // or the work's error (its writes rolled back). Never blocks the caller. `done` runs on the
  // store's writer thread, in commit order, and must be quick.
  virtual void Transact(Work work, std::function<void(Status)> done) = 0;
  // Like Transact, blocking until committed. Never call it on an I/O thread.
  virtual Status TransactSync(Work work) = 0;
  // True on the thread that runs units of work (blocking there on another unit would deadlock).
  virtual bool OnWriterThread() const = 0;

  virtual Result<Ticket> Get(TicketId id) = 0;
  virtual Result<std::vector<TicketEvent>> Events(TicketId id) = 0;
  virtual Result<std::vector<Ticket>> List(const TicketFilter& filter) = 0;
  // Every ticket with a pending SLA wake-up: (ticket, instant). For the scheduler at start.
  virtual Result<std::vector<std::pair<TicketId, TimePoint>>> LoadTimers() = 0;
  virtual Result<std::vector<MetricResult>> Metrics(const MetricQuery& query) = 0;
  // The stored metric results of one ticket (empty for an unknown id).
  virtual Result<std::vector<MetricResult>> MetricsOf(TicketId id) = 0;
};

}  // namespace kefu::ticketing
