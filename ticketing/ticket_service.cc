#include "ticketing/ticket_service.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <utility>

namespace kefu::ticketing {

struct TicketService::Effects {
  std::vector<std::pair<TicketId, std::optional<TimePoint>>> wakes;
  std::vector<SlaNotification> notifications;
  int warnings = 0;
  int breaches = 0;
};

namespace {

constexpr int kMaxSettleRounds = 5;
// Merges chained further than this (a into b, b into c, ...) are not followed for new messages.
constexpr int kMaxMergeHops = 8;

// The ticket a merged ticket was merged into, if any.
std::optional<TicketId> MergedInto(const std::vector<TicketEvent>& events) {
  for (const auto& e : events) {
    if (e.kind != EventKind::kMerged || e.field != "merged_into" || e.after.empty()) continue;
    int64_t id = 0;
    for (char c : e.after) {
      if (c < '0' || c > '9') return std::nullopt;
      id = id * 10 + (c - '0');
    }
    return TicketId(id);
  }
  return std::nullopt;
}

TicketEvent MakeEvent(const Ticket& t, EventKind kind, const Actor& actor, TimePoint at,
                      std::string field = "", std::string before = "", std::string after = "") {
  TicketEvent e;
  e.ticket = t.id;
  e.kind = kind;
  e.actor = actor;
  e.at = at;
  e.field = std::move(field);
  e.before = std::move(before);
  e.after = std::move(after);
  return e;
}

// Appends `e`; it shows up at once in the ticket's event list from tx.Events.
Status Record(TicketTx& tx, const TicketEvent& e) {
  return tx.Append(e).status();
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags)
    out.append(out.empty() ? "" : ",").append(t);
  return out;
}

MetricResult ToResult(const Ticket& t, const SlaPolicy& p, const MetricInstance& mi) {
  MetricResult r;
  r.ticket = t.id;
  r.metric = mi.metric;
  r.instance = mi.instance;
  r.policy = p.name;
  r.priority = t.priority;
  r.group = t.group;
  r.business_hours = mi.target.business_hours;
  r.start = mi.start;
  if (mi.due != TimePoint::max()) r.due = mi.due;
  r.fulfilled_at = mi.fulfilled_at;
  r.target_minutes = mi.target.target.count();
  r.actual_minutes = mi.actual_minutes;
  r.breached = mi.breached;
  r.late_by_minutes = mi.late_by_minutes;
  r.state = mi.state;
  return r;
}

}  // namespace

TicketService::TicketService(TicketStore& store, const Clock& clock,
                             std::shared_ptr<const SlaPolicySet> policies,
                             TicketServiceOptions options, prometheus::Registry& registry,
                             SlaNotifier* notifier)
    : store_(store),
      clock_(clock),
      policies_(std::move(policies)),
      options_(std::move(options)),
      notifier_(notifier) {
  auto& sla = prometheus::BuildCounter()
                  .Name("kefu_ticketing_sla_events_total")
                  .Help("SLA warnings and breaches recorded")
                  .Register(registry);
  warnings_ = &sla.Add({{"kind", "warning"}});
  breaches_ = &sla.Add({{"kind", "breach"}});
  auto& ops = prometheus::BuildCounter()
                  .Name("kefu_ticketing_operations_total")
                  .Help("Ticket operations by result")
                  .Register(registry);
  ops_ok_ = &ops.Add({{"result", "ok"}});
  ops_error_ = &ops.Add({{"result", "error"}});
}

void TicketService::SetWakeHook(WakeHook hook) {
  std::lock_guard lock(hook_mu_);
  wake_hook_ = std::move(hook);
}

void TicketService::SetChangeHook(ChangeHook hook) {
  std::lock_guard lock(hook_mu_);
  change_hook_ = std::move(hook);
}

Result<Ticket> TicketService::RunSync(const Op& op) {
  // Through the asynchronous path so that AfterCommit (the scheduler hook) runs in commit order
  // on the writer thread: a later commit's wake-up can never be overwritten by an earlier one's.
  if (store_.OnWriterThread()) {
    return FailedPrecondition("ticket service: synchronous call on the store's writer thread");
  }
  std::promise<Result<Ticket>> promise;
  auto future = promise.get_future();
  RunAsync(op, [&promise](Result<Ticket> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void TicketService::RunAsync(Op op, TicketCallback done) {
  struct State {
    Effects fx;
    std::optional<Result<Ticket>> out;
  };
  auto state = std::make_shared<State>();
  store_.Transact(
      [this, op = std::move(op), state](TicketTx& tx) {
        state->fx = Effects{};
        state->out.emplace(op(tx, state->fx));
        return state->out->status();
      },
      [this, state, done = std::move(done)](Status s) {
        if (!s.ok()) {
          ops_error_->Increment();
          if (done) done(std::move(s));
          return;
        }
        ops_ok_->Increment();
        AfterCommit(state->fx);
        if (state->out->ok()) {
          std::lock_guard lock(hook_mu_);
          if (change_hook_) change_hook_(state->out->value());
        }
        if (done) done(std::move(*state->out));
      });
}

void TicketService::AfterCommit(const Effects& fx) {
  if (fx.warnings > 0) warnings_->Increment(fx.warnings);
  if (fx.breaches > 0) breaches_->Increment(fx.breaches);
  std::lock_guard lock(hook_mu_);
  if (wake_hook_) {
    for (const auto& [id, wake] : fx.wakes)
      wake_hook_(id, wake);
  }
  if (notifier_) {
    for (const auto& n : fx.notifications)
      notifier_->Notify(n);
  }
}

Result<Ticket> TicketService::Create(const NewTicket& n, const Actor& actor) {
  return RunSync([&](TicketTx& tx, Effects& fx) { return DoCreate(tx, fx, n, actor, {}); });
}
void TicketService::CreateAsync(NewTicket n, Actor actor, TicketCallback done) {
  RunAsync([this, n = std::move(n), actor = std::move(actor)](
               TicketTx& tx, Effects& fx) { return DoCreate(tx, fx, n, actor, {}); },
           std::move(done));
}
Result<Ticket> TicketService::Update(TicketId id, const TicketUpdate& u, const Actor& actor) {
  return RunSync([&](TicketTx& tx, Effects& fx) { return DoUpdate(tx, fx, id, u, actor); });
}
void TicketService::UpdateAsync(TicketId id, TicketUpdate u, Actor actor, TicketCallback done) {
  RunAsync([this, id, u = std::move(u), actor = std::move(actor)](
               TicketTx& tx, Effects& fx) { return DoUpdate(tx, fx, id, u, actor); },
           std::move(done));
}
Result<Ticket> TicketService::Comment(TicketId id, CommentKind kind, const std::string& body,
                                      const Actor& actor) {
  return RunSync(
      [&](TicketTx& tx, Effects& fx) { return DoComment(tx, fx, id, kind, body, actor); });
}
void TicketService::CommentAsync(TicketId id, CommentKind kind, std::string body, Actor actor,
                                 TicketCallback done) {
  RunAsync([this, id, kind, body = std::move(body), actor = std::move(actor)](
               TicketTx& tx, Effects& fx) { return DoComment(tx, fx, id, kind, body, actor); },
           std::move(done));
}
Result<Ticket> TicketService::OnCustomerMessage(const CustomerMessage& m) {
  return RunSync([&](TicketTx& tx, Effects& fx) { return DoCustomerMessage(tx, fx, m); });
}
Result<Ticket> TicketService::Merge(TicketId source, TicketId target, const Actor& actor) {
  return RunSync([&](TicketTx& tx, Effects& fx) { return DoMerge(tx, fx, source, target, actor); });
}
Result<Ticket> TicketService::Evaluate(TicketId id) {
  return RunSync([&](TicketTx& tx, Effects& fx) -> Result<Ticket> {
    KEFU_ASSIGN_OR_RETURN(Ticket t, tx.Get(id));
    KEFU_ASSIGN_OR_RETURN(const auto* events, tx.Events(id));
    KEFU_RETURN_IF_ERROR(Settle(tx, fx, t, *events, clock_.Now()));
    return t;
  });
}

Result<Ticket> TicketService::DoCreate(TicketTx& tx, Effects& fx, const NewTicket& n,
                                       const Actor& actor, TicketId follow_up_of) {
  if (n.requester.empty()) return InvalidArgument("requester: must not be empty");
  if (n.channel.empty()) return InvalidArgument("channel: must not be empty");
  const TimePoint now = clock_.Now();
  Ticket t;
  t.subject = n.subject;
  t.status = TicketStatus::kNew;
  t.priority = ApplyAutoPriority(options_.auto_priority, n.channel, n.first_message, n.priority);
  t.group = n.group;
  t.assignee = n.assignee;
  t.requester = n.requester;
  t.channel = n.channel;
  t.tags = n.tags;
  t.customer_tags = n.customer_tags;
  t.conversation = n.conversation;
  t.follow_up_of = follow_up_of;
  t.created_at = now;
  t.updated_at = now;
  KEFU_ASSIGN_OR_RETURN(t.id, tx.Insert(t));
  KEFU_ASSIGN_OR_RETURN(const auto* events, tx.Events(t.id));
  auto created = MakeEvent(t, EventKind::kCreated, actor, now, "status", "", "new");
  created.body = n.subject;
  if (follow_up_of.valid()) created.before = follow_up_of.ToString();
  KEFU_RETURN_IF_ERROR(Record(tx, created));
  if (t.priority != n.priority) {
    KEFU_RETURN_IF_ERROR(Record(
        tx, MakeEvent(t, EventKind::kFieldChanged, Actor::System(), now, "priority",
                      std::string(ToString(n.priority)), std::string(ToString(t.priority)))));
  }
  if (!n.first_message.empty()) {
    auto msg = MakeEvent(t, EventKind::kCustomerMessage, Actor::Customer(n.requester), now);
    msg.body = n.first_message;
    KEFU_RETURN_IF_ERROR(Record(tx, msg));
  }
  KEFU_RETURN_IF_ERROR(Settle(tx, fx, t, *events, now));
  // Debug: a hand-off burst opens thousands a second, and the `created` event is the record.
  spdlog::debug("ticket created ticket_id={} channel={} priority={} sla_policy={}", t.id.value(),
                t.channel, ToString(t.priority), t.sla_policy);
  return t;
}

Result<Ticket> TicketService::DoUpdate(TicketTx& tx, Effects& fx, TicketId id,
                                       const TicketUpdate& u, const Actor& actor) {
  KEFU_ASSIGN_OR_RETURN(Ticket t, tx.Get(id));
  KEFU_ASSIGN_OR_RETURN(const auto* events, tx.Events(id));
  const TimePoint now = clock_.Now();
  if (t.status == TicketStatus::kClosed) {
    return FailedPrecondition("ticket " + id.ToString() + " is closed");
  }
  if (u.status && *u.status != t.status) {
    KEFU_RETURN_IF_ERROR(CheckTransition(t.status, *u.status));
    KEFU_RETURN_IF_ERROR(
        Record(tx, MakeEvent(t, EventKind::kFieldChanged, actor, now, "status",
                             std::string(ToString(t.status)), std::string(ToString(*u.status)))));
    t.status = *u.status;
    if (t.status == TicketStatus::kSolved) t.solved_at = now;
  }
  if (u.priority && *u.priority != t.priority) {
    KEFU_RETURN_IF_ERROR(Record(
        tx, MakeEvent(t, EventKind::kFieldChanged, actor, now, "priority",
                      std::string(ToString(t.priority)), std::string(ToString(*u.priority)))));
    t.priority = *u.priority;
  }
  if (u.group && *u.group != t.group) {
    KEFU_RETURN_IF_ERROR(
        Record(tx, MakeEvent(t, EventKind::kFieldChanged, actor, now, "group", t.group, *u.group)));
    t.group = *u.group;
  }
  if (u.assignee && *u.assignee != t.assignee) {
    KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFieldChanged, actor, now, "assignee",
                                              t.assignee, *u.assignee)));
    t.assignee = *u.assignee;
  }
  if (u.tags && *u.tags != t.tags) {
    KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFieldChanged, actor, now, "tags",
                                              JoinTags(t.tags), JoinTags(*u.tags))));
    t.tags = *u.tags;
  }
  t.updated_at = now;
  KEFU_RETURN_IF_ERROR(Settle(tx, fx, t, *events, now));
  return t;
}

Result<Ticket> TicketService::DoComment(TicketTx& tx, Effects& fx, TicketId id, CommentKind kind,
                                        const std::string& body, const Actor& actor) {
  if (body.empty()) return InvalidArgument("body: must not be empty");
  KEFU_ASSIGN_OR_RETURN(Ticket t, tx.Get(id));
  if (t.status == TicketStatus::kClosed) {
    return FailedPrecondition("ticket " + id.ToString() + " is closed");
  }
  KEFU_ASSIGN_OR_RETURN(const auto* events, tx.Events(id));
  const TimePoint now = clock_.Now();
  const EventKind ek = kind == CommentKind::kPublicReply    ? EventKind::kAgentReply
                       : kind == CommentKind::kInternalNote ? EventKind::kInternalNote
                                                            : EventKind::kBotReply;
  auto e = MakeEvent(t, ek, actor, now);
  e.body = body;
  KEFU_ASSIGN_OR_RETURN(const int64_t event_id, tx.Append(e));
  if (kind == CommentKind::kPublicReply) {
    OutboundReply reply;
    reply.ticket = t.id;
    reply.event_id = event_id;
    reply.conversation = t.conversation;
    reply.channel = t.channel;
    reply.requester = t.requester;
    reply.body = body;
    reply.agent = actor.id;
    KEFU_RETURN_IF_ERROR(tx.EnqueueReply(reply));
    if (t.status == TicketStatus::kNew) {
      KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFieldChanged, Actor::System(), now,
                                                "status", "new", "open")));
      t.status = TicketStatus::kOpen;
    }
  }
  t.updated_at = now;
  KEFU_RETURN_IF_ERROR(Settle(tx, fx, t, *events, now));
  return t;
}

Result<Ticket> TicketService::DoCustomerMessage(TicketTx& tx, Effects& fx,
                                                const CustomerMessage& m) {
  if (m.body.empty()) return InvalidArgument("body: must not be empty");
  KEFU_ASSIGN_OR_RETURN(auto latest, tx.LatestForConversation(m.conversation));
  const TimePoint now = clock_.Now();
  NewTicket n;
  n.requester = m.requester;
  n.channel = m.channel;
  n.conversation = m.conversation;
  n.customer_tags = m.customer_tags;
  n.first_message = m.body;
  if (!latest) {
    n.subject = SubjectFromMessage(m.body);
    return DoCreate(tx, fx, n, Actor::Customer(m.requester), {});
  }
  Ticket t = std::move(*latest);
  KEFU_ASSIGN_OR_RETURN(const std::vector<TicketEvent>* events, tx.Events(t.id));
  // A merged ticket hands its conversation to the ticket it was merged into.
  for (int hop = 0; hop < kMaxMergeHops && t.status == TicketStatus::kClosed; ++hop) {
    const auto into = MergedInto(*events);
    if (!into) break;
    KEFU_ASSIGN_OR_RETURN(t, tx.Get(*into));
    KEFU_ASSIGN_OR_RETURN(events, tx.Events(t.id));
  }
  switch (EffectOfCustomerMessage(t, now, options_.reopen_window)) {
    case CustomerMessageEffect::kFollowUp: {
      n.subject = t.subject;
      n.group = t.group;
      n.priority = t.priority;
      n.tags = t.tags;
      KEFU_ASSIGN_OR_RETURN(Ticket follow, DoCreate(tx, fx, n, Actor::Customer(m.requester), t.id));
      KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFollowUp, Actor::System(), now,
                                                "follow_up", "", follow.id.ToString())));
      if (t.status == TicketStatus::kSolved) {
        // Past the reopen window the old ticket is done for good.
        KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFieldChanged, Actor::System(), now,
                                                  "status", "solved", "closed")));
        t.status = TicketStatus::kClosed;
      }
      t.updated_at = now;
      KEFU_RETURN_IF_ERROR(Settle(tx, fx, t, *events, now));
      return follow;
    }
    case CustomerMessageEffect::kReopen:
      KEFU_RETURN_IF_ERROR(
          Record(tx, MakeEvent(t, EventKind::kFieldChanged, Actor::System(), now, "status",
                               std::string(ToString(t.status)), "open")));
      t.status = TicketStatus::kOpen;
      break;
    case CustomerMessageEffect::kAppend:
      break;
  }
  auto msg = MakeEvent(t, EventKind::kCustomerMessage, Actor::Customer(m.requester), now);
  msg.body = m.body;
  KEFU_RETURN_IF_ERROR(Record(tx, msg));
  t.updated_at = now;
  KEFU_RETURN_IF_ERROR(Settle(tx, fx, t, *events, now));
  return t;
}

Result<Ticket> TicketService::DoMerge(TicketTx& tx, Effects& fx, TicketId source, TicketId target,
                                      const Actor& actor) {
  if (source == target) {
    return InvalidArgument("target: cannot merge ticket " + source.ToString() + " into itself");
  }
  KEFU_ASSIGN_OR_RETURN(Ticket from, tx.Get(source));
  KEFU_ASSIGN_OR_RETURN(Ticket into, tx.Get(target));
  for (const Ticket* t : {&from, &into}) {
    if (t->status == TicketStatus::kClosed) {
      return FailedPrecondition("ticket " + t->id.ToString() + " is closed");
    }
  }
  const TimePoint now = clock_.Now();
  KEFU_ASSIGN_OR_RETURN(const auto* from_events, tx.Events(source));
  KEFU_RETURN_IF_ERROR(Record(
      tx, MakeEvent(from, EventKind::kMerged, actor, now, "merged_into", "", target.ToString())));
  KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(from, EventKind::kFieldChanged, actor, now, "status",
                                            std::string(ToString(from.status)), "closed")));
  from.status = TicketStatus::kClosed;
  from.updated_at = now;
  KEFU_RETURN_IF_ERROR(Settle(tx, fx, from, *from_events, now));
  KEFU_ASSIGN_OR_RETURN(const auto* into_events, tx.Events(target));
  KEFU_RETURN_IF_ERROR(Record(
      tx, MakeEvent(into, EventKind::kMerged, actor, now, "merged_from", "", source.ToString())));
  into.updated_at = now;
  KEFU_RETURN_IF_ERROR(Settle(tx, fx, into, *into_events, now));
  spdlog::info("ticket merged ticket_id={} into={}", source.value(), target.value());
  return into;
}

Status TicketService::Settle(TicketTx& tx, Effects& fx, Ticket& t,
                             const std::vector<TicketEvent>& events, TimePoint now) {
  const Actor system = Actor::System();
  const SlaPolicy* policy = nullptr;
  std::vector<MetricInstance> metrics;
  SlaDue due;
  for (int round = 0; round < kMaxSettleRounds; ++round) {
    policy = policies_->Match(t);
    const std::string name = policy ? policy->name : "";
    if (name != t.sla_policy) {
      KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFieldChanged, system, now,
                                                "sla_policy", t.sla_policy, name)));
      t.sla_policy = name;
    }
    if (!policy) {
      metrics.clear();
      due = SlaDue{};
      break;
    }
    metrics = EvaluateSla(t, events, *policy, policies_->CalendarFor(*policy), now);
    due = DueAt(metrics, now);
    if (due.warnings.empty() && due.breaches.empty()) break;
    bool escalated = false;
    auto escalate = [&](const MetricInstance& mi, EscalationAction::On on) -> Status {
      for (const auto& a : policy->escalations) {
        if (a.on != on || (a.metric && *a.metric != mi.metric)) continue;
        switch (a.kind) {
          case EscalationAction::Kind::kRaisePriority: {
            Priority to =
                a.priority.value_or(t.priority == Priority::kUrgent
                                        ? Priority::kUrgent
                                        : static_cast<Priority>(static_cast<int>(t.priority) - 1));
            if (to < t.priority) {
              KEFU_RETURN_IF_ERROR(Record(
                  tx, MakeEvent(t, EventKind::kFieldChanged, system, now, "priority",
                                std::string(ToString(t.priority)), std::string(ToString(to)))));
              t.priority = to;
              escalated = true;
            }
            break;
          }
          case EscalationAction::Kind::kReassignGroup:
            if (a.group != t.group) {
              KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFieldChanged, system, now,
                                                        "group", t.group, a.group)));
              t.group = a.group;
              if (!t.assignee.empty()) {
                KEFU_RETURN_IF_ERROR(Record(tx, MakeEvent(t, EventKind::kFieldChanged, system, now,
                                                          "assignee", t.assignee, "")));
                t.assignee.clear();
              }
              escalated = true;
            }
            break;
          case EscalationAction::Kind::kNotify: {
            const std::string kind = on == EscalationAction::On::kWarning ? "warning" : "breach";
            auto e = MakeEvent(t, EventKind::kNotify, system, now, std::string(ToString(mi.metric)),
                               kind, a.notify);
            e.instance = mi.instance;
            KEFU_RETURN_IF_ERROR(Record(tx, e));
            fx.notifications.push_back(
                {t.id, kind, mi.metric, mi.instance, mi.due, a.notify, t.assignee, t.group});
            break;
          }
        }
      }
      return Status::Ok();
    };
    // Copy: escalations append events, and the instances must stay valid while we walk them.
    std::vector<MetricInstance> warn, breach;
    for (const auto* mi : due.warnings)
      warn.push_back(*mi);
    for (const auto* mi : due.breaches)
      breach.push_back(*mi);
    // Records one warning or breach event and runs its escalations; a breach of a metric that
    // was fulfilled late is recorded but not escalated.
    auto fire = [&](const MetricInstance& mi, EventKind kind, EscalationAction::On on) -> Status {
      auto e = MakeEvent(t, kind, system, now, std::string(ToString(mi.metric)), "",
                         std::to_string(ToUnixMs(mi.due)));
      e.instance = mi.instance;
      KEFU_RETURN_IF_ERROR(Record(tx, e));
      const bool warning = kind == EventKind::kSlaWarning;
      ++(warning ? fx.warnings : fx.breaches);
      spdlog::info("sla {} ticket_id={} metric={} instance={}", warning ? "warning" : "breach",
                   t.id.value(), ToString(mi.metric), mi.instance);
      if (!warning && mi.fulfilled_at) return Status::Ok();
      return escalate(mi, on);
    };
    for (const auto& mi : warn)
      KEFU_RETURN_IF_ERROR(fire(mi, EventKind::kSlaWarning, EscalationAction::On::kWarning));
    for (const auto& mi : breach)
      KEFU_RETURN_IF_ERROR(fire(mi, EventKind::kSlaBreach, EscalationAction::On::kBreach));
    if (round + 1 == kMaxSettleRounds || !escalated) {
      metrics = EvaluateSla(t, events, *policy, policies_->CalendarFor(*policy), now);
      due = DueAt(metrics, now);
      if (!escalated) break;
    }
  }
  std::vector<MetricResult> results;
  results.reserve(metrics.size());
  for (const auto& mi : metrics)
    results.push_back(ToResult(t, *policy, mi));
  KEFU_RETURN_IF_ERROR(tx.PutMetrics(t.id, results));
  t.sla_state = due.state;
  t.next_wake = due.next_wake;
  KEFU_RETURN_IF_ERROR(tx.Update(t));
  fx.wakes.emplace_back(t.id, t.next_wake);
  return Status::Ok();
}

}  // namespace kefu::ticketing
