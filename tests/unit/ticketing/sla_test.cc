#include "ticketing/sla.h"

#include <gtest/gtest.h>

namespace kefu::ticketing {
namespace {

using std::chrono::minutes;

TimePoint At(std::string_view s) {
  return ParseRfc3339(s).value_or(TimePoint{});
}

std::shared_ptr<const BusinessCalendar> Office() {
  CalendarSpec spec;
  spec.name = "cn-office";
  for (size_t d = 0; d < 5; ++d)
    spec.weekly[d] = {"09:00-12:00", "13:30-18:00"};
  spec.holidays = {"2026-10-01..2026-10-07"};
  spec.working_days = {{"2026-10-10", {"09:00-12:00", "13:30-18:00"}}};
  return *BusinessCalendar::Create(spec);
}

SlaPolicy Policy() {
  SlaPolicy p;
  p.name = "default";
  p.calendar = "cn-office";
  auto& normal = p.targets[static_cast<size_t>(Priority::kNormal)];
  normal[0] = MetricTarget{minutes(60), true, {}};
  normal[1] = MetricTarget{minutes(30), true, minutes(5)};
  normal[2] = MetricTarget{minutes(240), true, {}};
  normal[3] = MetricTarget{minutes(480), true, {}};
  auto& urgent = p.targets[static_cast<size_t>(Priority::kUrgent)];
  urgent[0] = MetricTarget{minutes(15), true, {}};
  urgent[3] = MetricTarget{minutes(120), false, {}};
  return p;
}

struct Fixture {
  Ticket ticket;
  std::vector<TicketEvent> events;
  std::shared_ptr<const BusinessCalendar> cal = Office();
  SlaPolicy policy = Policy();

  explicit Fixture(TimePoint created) {
    ticket.created_at = created;
    ticket.status = TicketStatus::kNew;
    Add(EventKind::kCreated, created, "", "new");
  }
  void Add(EventKind kind, TimePoint at, std::string field = "", std::string after = "") {
    TicketEvent e;
    e.id = static_cast<int64_t>(events.size()) + 1;
    e.kind = kind;
    e.at = at;
    e.field = std::move(field);
    e.after = std::move(after);
    events.push_back(e);
  }
  void Status(TimePoint at, TicketStatus s) {
    Add(EventKind::kFieldChanged, at, "status", std::string(ToString(s)));
    ticket.status = s;
  }
  std::vector<MetricInstance> Eval(TimePoint now) {
    return EvaluateSla(ticket, events, policy, cal.get(), now);
  }
  static const MetricInstance* Find(const std::vector<MetricInstance>& ms, SlaMetric m,
                                    int64_t instance = 0) {
    for (const auto& mi : ms) {
      if (mi.metric == m && mi.instance == instance) return &mi;
    }
    return nullptr;
  }
};

TEST(SlaEvaluation, FirstResponseMetWithinBusinessHours) {
  Fixture f(At("2026-03-03T11:30:00+08:00"));
  f.Add(EventKind::kAgentReply, At("2026-03-03T13:50:00+08:00"));
  auto ms = f.Eval(At("2026-03-03T15:00:00+08:00"));
  auto* fr = Fixture::Find(ms, SlaMetric::kFirstResponse);
  ASSERT_NE(fr, nullptr);
  EXPECT_EQ(f.cal->FormatRfc3339(fr->due), "2026-03-03T14:00:00+08:00");
  EXPECT_EQ(f.cal->FormatRfc3339(fr->warn_at), "2026-03-03T13:48:00+08:00");
  EXPECT_EQ(fr->state, MetricState::kFulfilled);
  EXPECT_EQ(fr->actual_minutes, 50);
  EXPECT_FALSE(fr->breached);
}

TEST(SlaEvaluation, FirstResponseBreachedStaysBreachedWhenAnsweredLate) {
  Fixture f(At("2026-03-03T11:30:00+08:00"));
  auto ms = f.Eval(At("2026-03-03T14:00:00+08:00"));
  EXPECT_EQ(Fixture::Find(ms, SlaMetric::kFirstResponse)->state, MetricState::kBreached);
  f.Add(EventKind::kAgentReply, At("2026-03-03T14:20:00+08:00"));
  ms = f.Eval(At("2026-03-03T15:00:00+08:00"));
  auto* fr = Fixture::Find(ms, SlaMetric::kFirstResponse);
  EXPECT_EQ(fr->state, MetricState::kBreached);
  EXPECT_TRUE(fr->breached);
  EXPECT_EQ(fr->actual_minutes, 80);
  EXPECT_EQ(fr->late_by_minutes, 20);
}

TEST(SlaEvaluation, BotRepliesAndInternalNotesNeverFulfil) {
  Fixture f(At("2026-03-03T09:00:00+08:00"));
  f.Add(EventKind::kBotReply, At("2026-03-03T09:01:00+08:00"));
  f.Add(EventKind::kInternalNote, At("2026-03-03T09:02:00+08:00"));
  auto ms = f.Eval(At("2026-03-03T09:30:00+08:00"));
  auto* fr = Fixture::Find(ms, SlaMetric::kFirstResponse);
  EXPECT_EQ(fr->state, MetricState::kActive);
  EXPECT_FALSE(fr->fulfilled_at.has_value());
  // No next_response or periodic_update instance starts without a public agent reply.
  EXPECT_EQ(Fixture::Find(ms, SlaMetric::kNextResponse, 1), nullptr);
  EXPECT_EQ(Fixture::Find(ms, SlaMetric::kPeriodicUpdate, 1), nullptr);
}

TEST(SlaEvaluation, NextResponseRestartsOnEachUnansweredCustomerMessage) {
  Fixture f(At("2026-03-03T09:00:00+08:00"));
  f.Add(EventKind::kAgentReply, At("2026-03-03T09:10:00+08:00"));
  f.Add(EventKind::kCustomerMessage, At("2026-03-03T09:20:00+08:00"));
  f.Add(EventKind::kCustomerMessage, At("2026-03-03T09:25:00+08:00"));  // same instance
  f.Add(EventKind::kAgentReply, At("2026-03-03T09:40:00+08:00"));
  f.Add(EventKind::kCustomerMessage, At("2026-03-03T10:00:00+08:00"));
  auto ms = f.Eval(At("2026-03-03T10:10:00+08:00"));
  auto* first = Fixture::Find(ms, SlaMetric::kNextResponse, 1);
  auto* second = Fixture::Find(ms, SlaMetric::kNextResponse, 2);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(Fixture::Find(ms, SlaMetric::kNextResponse, 3), nullptr);
  EXPECT_EQ(first->state, MetricState::kFulfilled);
  EXPECT_EQ(first->actual_minutes, 20);  // from the oldest unanswered message
  EXPECT_EQ(second->state, MetricState::kActive);
  EXPECT_EQ(f.cal->FormatRfc3339(second->due), "2026-03-03T10:30:00+08:00");
  EXPECT_EQ(f.cal->FormatRfc3339(second->warn_at), "2026-03-03T10:25:00+08:00");
}

TEST(SlaEvaluation, ResolutionPausesInPendingAndResumesWhereItStopped) {
  Fixture f(At("2026-03-03T09:00:00+08:00"));
  f.Status(At("2026-03-03T09:00:00+08:00"), TicketStatus::kOpen);
  f.Status(At("2026-03-03T10:00:00+08:00"), TicketStatus::kPending);  // 60 min used
  auto paused = f.Eval(At("2026-03-05T10:00:00+08:00"));
  auto* r = Fixture::Find(paused, SlaMetric::kResolution);
  EXPECT_EQ(r->state, MetricState::kPaused);
  EXPECT_EQ(r->due, TimePoint::max());
  EXPECT_EQ(r->actual_minutes, 60);
  f.Status(At("2026-03-05T14:00:00+08:00"), TicketStatus::kOpen);  // 420 min left
  auto resumed = f.Eval(At("2026-03-05T14:00:00+08:00"));
  r = Fixture::Find(resumed, SlaMetric::kResolution);
  EXPECT_EQ(r->state, MetricState::kActive);
  // 14:00-18:00 is 240, then 180 more on Friday: 09:00-12:00.
  EXPECT_EQ(f.cal->FormatRfc3339(r->due), "2026-03-06T12:00:00+08:00");
  f.Status(At("2026-03-06T11:00:00+08:00"), TicketStatus::kOnHold);
  f.Status(At("2026-03-09T09:00:00+08:00"), TicketStatus::kOpen);
  r = Fixture::Find(f.Eval(At("2026-03-09T09:00:00+08:00")), SlaMetric::kResolution);
  EXPECT_EQ(f.cal->FormatRfc3339(r->due), "2026-03-09T10:00:00+08:00");
  f.Status(At("2026-03-09T09:30:00+08:00"), TicketStatus::kSolved);
  r = Fixture::Find(f.Eval(At("2026-03-09T12:00:00+08:00")), SlaMetric::kResolution);
  EXPECT_EQ(r->state, MetricState::kFulfilled);
  EXPECT_EQ(r->actual_minutes, 450);
}

TEST(SlaEvaluation, PauseStatesAreConfigurablePerPolicy) {
  Fixture f(At("2026-03-03T09:00:00+08:00"));
  f.policy.pause_states[static_cast<size_t>(SlaMetric::kFirstResponse)] = {TicketStatus::kPending};
  f.Status(At("2026-03-03T09:30:00+08:00"), TicketStatus::kPending);
  auto* fr = Fixture::Find(f.Eval(At("2026-03-03T12:00:00+08:00")), SlaMetric::kFirstResponse);
  EXPECT_EQ(fr->state, MetricState::kPaused);
  EXPECT_EQ(fr->actual_minutes, 30);
}

TEST(SlaEvaluation, PriorityChangeRetargets) {
  Fixture f(At("2026-03-03T09:00:00+08:00"));
  auto* fr = Fixture::Find(f.Eval(At("2026-03-03T09:05:00+08:00")), SlaMetric::kFirstResponse);
  EXPECT_EQ(f.cal->FormatRfc3339(fr->due), "2026-03-03T10:00:00+08:00");
  f.ticket.priority = Priority::kUrgent;
  auto ms = f.Eval(At("2026-03-03T09:05:00+08:00"));
  fr = Fixture::Find(ms, SlaMetric::kFirstResponse);
  EXPECT_EQ(f.cal->FormatRfc3339(fr->due), "2026-03-03T09:15:00+08:00");
  // The urgent resolution target is in calendar time: 120 wall-clock minutes.
  auto* res = Fixture::Find(ms, SlaMetric::kResolution);
  EXPECT_EQ(res->due, At("2026-03-03T11:00:00+08:00"));
  EXPECT_EQ(Fixture::Find(ms, SlaMetric::kNextResponse, 1), nullptr);
}

TEST(SlaEvaluation, DueReportsWarningThenBreachOnceAndTheNextWake) {
  Fixture f(At("2026-03-03T09:00:00+08:00"));
  f.policy.targets[static_cast<size_t>(Priority::kNormal)] = {};
  f.policy.targets[static_cast<size_t>(Priority::kNormal)][0] = MetricTarget{minutes(60), true, {}};
  auto ms = f.Eval(At("2026-03-03T09:10:00+08:00"));
  auto due = DueAt(ms, At("2026-03-03T09:10:00+08:00"));
  EXPECT_TRUE(due.warnings.empty());
  EXPECT_EQ(due.next_wake, At("2026-03-03T09:48:00+08:00"));
  EXPECT_EQ(due.state, "ok");
  // A jump past both: warning and breach are both due.
  ms = f.Eval(At("2026-03-03T11:00:00+08:00"));
  due = DueAt(ms, At("2026-03-03T11:00:00+08:00"));
  EXPECT_EQ(due.warnings.size(), 1u);
  EXPECT_EQ(due.breaches.size(), 1u);
  EXPECT_EQ(due.state, "breached");
  // Once recorded, nothing is due again.
  f.Add(EventKind::kSlaWarning, At("2026-03-03T11:00:00+08:00"), "first_response");
  f.Add(EventKind::kSlaBreach, At("2026-03-03T11:00:00+08:00"), "first_response");
  ms = f.Eval(At("2026-03-03T11:01:00+08:00"));
  due = DueAt(ms, At("2026-03-03T11:01:00+08:00"));
  EXPECT_TRUE(due.warnings.empty());
  EXPECT_TRUE(due.breaches.empty());
  EXPECT_FALSE(due.next_wake.has_value());
}

TEST(SlaEvaluation, PolicyMatchingIsOrderedFirstMatch) {
  SlaPolicy vip = Policy();
  vip.name = "vip";
  vip.customer_tags = {"vip"};
  SlaPolicy wecom = Policy();
  wecom.name = "wecom-urgent";
  wecom.channels = {"wecom"};
  wecom.priorities = {Priority::kUrgent};
  SlaPolicy fallback = Policy();
  fallback.name = "default";
  auto set = SlaPolicySet::Create({vip, wecom, fallback}, {Office()});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Ticket t;
  t.channel = "wecom";
  EXPECT_EQ((*set)->Match(t)->name, "default");
  t.priority = Priority::kUrgent;
  EXPECT_EQ((*set)->Match(t)->name, "wecom-urgent");
  t.customer_tags = {"vip"};
  EXPECT_EQ((*set)->Match(t)->name, "vip");
}

TEST(SlaEvaluation, PolicySetRejectsUnknownCalendarAndBadTargets) {
  SlaPolicy p = Policy();
  p.calendar = "nowhere";
  auto bad = SlaPolicySet::Create({p}, {Office()});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sla.policies[0].calendar"), std::string::npos);
  p = Policy();
  p.targets[2][0]->warning = minutes(60);
  bad = SlaPolicySet::Create({p}, {Office()});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("targets.normal.first_response"), std::string::npos);
  bad = SlaPolicySet::Create({Policy(), Policy()}, {Office()});
  EXPECT_NE(bad.status().message().find("duplicate"), std::string::npos);
}

}  // namespace
}  // namespace kefu::ticketing
