#include "ticketing/ticket_service.h"

#include <gtest/gtest.h>

#include <future>
#include <map>

#include "tests/unit/ticketing/harness.h"

namespace kefu::ticketing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::At;
using testing::Harness;

TicketUpdate SetStatus(TicketStatus s) {
  TicketUpdate u;
  u.status = s;
  return u;
}
TicketUpdate SetPriority(Priority p) {
  TicketUpdate u;
  u.priority = p;
  return u;
}
TicketUpdate SetGroup(std::string g) {
  TicketUpdate u;
  u.group = std::move(g);
  return u;
}

TEST(SlaEngine, FirstResponseMetRecordsNoWarningOrBreach) {
  Harness h;
  Ticket t = h.NewTicket();
  EXPECT_EQ(t.sla_policy, "default");
  EXPECT_EQ(t.next_wake, At("2026-03-03T09:48:00+08:00"));  // warning at 80% of 60 min
  h.clock.Advance(minutes(30));
  ASSERT_TRUE(
      h.service->Comment(t.id, CommentKind::kPublicReply, "您好，正在处理", Actor::Agent("a1"))
          .ok());
  auto r = h.Result(t.id, SlaMetric::kFirstResponse);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->state, MetricState::kFulfilled);
  EXPECT_EQ(r->actual_minutes, 30);
  EXPECT_EQ(r->target_minutes, 60);
  EXPECT_FALSE(r->breached);
  h.clock.Advance(hours(48));
  h.scheduler->RunDue();
  for (const auto& e : h.EventsOf(t.id, EventKind::kSlaWarning))
    EXPECT_NE(e.field, "first_response");
  // The resolution clock kept running and did warn and breach meanwhile.
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaBreach).size(), 1u);
  for (const auto& e : h.EventsOf(t.id, EventKind::kSlaBreach))
    EXPECT_NE(e.field, "first_response");
  EXPECT_EQ((*h.store->Get(t.id)).status, TicketStatus::kOpen);  // the reply opened it
}

TEST(SlaEngine, FirstResponseBreachFiresWarningThenBreachAndEscalates) {
  Harness h;
  Ticket t = h.NewTicket();
  h.clock.Advance(minutes(47));
  EXPECT_EQ(h.scheduler->RunDue(), 0u);
  h.clock.Advance(minutes(1));
  EXPECT_EQ(h.scheduler->RunDue(), 1u);
  auto warnings = h.EventsOf(t.id, EventKind::kSlaWarning);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].field, "first_response");
  EXPECT_TRUE(h.EventsOf(t.id, EventKind::kSlaBreach).empty());
  EXPECT_EQ((*h.store->Get(t.id)).sla_state, "warning");
  h.clock.Advance(minutes(12));
  EXPECT_EQ(h.scheduler->RunDue(), 1u);
  auto breaches = h.EventsOf(t.id, EventKind::kSlaBreach);
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0].field, "first_response");
  const Ticket after = *h.store->Get(t.id);
  EXPECT_EQ(after.sla_state, "breached");
  EXPECT_EQ(after.priority, Priority::kHigh);  // escalation: raise priority
  ASSERT_EQ(h.notifier.count(), 1u);
  EXPECT_EQ(h.notifier.seen[0].notify, "supervisors");
  EXPECT_EQ(h.notifier.seen[0].kind, "breach");
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kNotify).size(), 1u);
  // Answered 20 minutes late: stays breached with its late-by.
  h.clock.Advance(minutes(20));
  ASSERT_TRUE(
      h.service->Comment(t.id, CommentKind::kPublicReply, "抱歉久等", Actor::Agent("a1")).ok());
  auto r = h.Result(t.id, SlaMetric::kFirstResponse);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->breached);
  EXPECT_EQ(r->state, MetricState::kBreached);
  EXPECT_EQ(r->late_by_minutes, 50);  // re-targeted to high (30 min), answered at 80
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaBreach).size(), 1u);
}

TEST(SlaEngine, WarningAndBreachFireOnceAcrossARestartBetweenThem) {
  Harness h;
  Ticket t = h.NewTicket();
  h.clock.Advance(minutes(50));
  h.scheduler->RunDue();
  ASSERT_EQ(h.EventsOf(t.id, EventKind::kSlaWarning).size(), 1u);
  h.Restart();
  EXPECT_EQ(h.scheduler->size(), 1u);
  EXPECT_EQ(h.scheduler->NextDue(), At("2026-03-03T10:00:00+08:00"));
  h.scheduler->RunDue();  // nothing is due yet; nothing is recorded twice
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaWarning).size(), 1u);
  h.clock.Advance(minutes(15));
  h.scheduler->RunDue();
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaWarning).size(), 1u);
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaBreach).size(), 1u);
  h.Restart();
  h.clock.Advance(hours(1));
  h.scheduler->RunDue();
  ASSERT_TRUE(h.service->Evaluate(t.id).ok());
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaWarning).size(), 1u);
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaBreach).size(), 1u);
}

TEST(SlaEngine, ClockJumpPastBothFiresWarningThenBreachOnce) {
  Harness h;
  Ticket t = h.NewTicket();
  h.Restart();  // the jump happens while the daemon is down
  h.clock.Advance(hours(5));
  EXPECT_EQ(h.scheduler->RunDue(), 1u);
  auto events = *h.store->Events(t.id);
  std::vector<std::string> sla;
  for (const auto& e : events) {
    if (e.kind == EventKind::kSlaWarning && e.field == "first_response") sla.push_back("warning");
    if (e.kind == EventKind::kSlaBreach && e.field == "first_response") sla.push_back("breach");
  }
  EXPECT_EQ(sla, (std::vector<std::string>{"warning", "breach"}));
  h.scheduler->RunDue();
  ASSERT_TRUE(h.service->Evaluate(t.id).ok());
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaBreach).size(),
            h.EventsOf(t.id, EventKind::kSlaWarning).size());
  // Jumping back in time and forward again records nothing new.
  const size_t before = h.store->Events(t.id)->size();
  h.clock.Set(At("2026-03-03T09:10:00+08:00"));
  h.scheduler->RunDue();
  ASSERT_TRUE(h.service->Evaluate(t.id).ok());
  h.clock.Set(At("2026-03-03T14:00:00+08:00"));
  h.scheduler->RunDue();
  EXPECT_EQ(h.store->Events(t.id)->size(), before);
}

TEST(SlaEngine, NextResponseRestartsOnEachUnansweredCustomerMessage) {
  Harness h;
  Ticket t = h.NewTicket();
  h.clock.Advance(minutes(5));
  ASSERT_TRUE(
      h.service->Comment(t.id, CommentKind::kPublicReply, "请提供订单号", Actor::Agent("a1")).ok());
  h.clock.Advance(minutes(5));
  CustomerMessage m{t.conversation, "cust-1", "wecom", "订单号 123", {}};
  ASSERT_TRUE(h.service->OnCustomerMessage(m).ok());
  h.clock.Advance(minutes(10));
  m.body = "还在吗";
  ASSERT_TRUE(h.service->OnCustomerMessage(m).ok());
  auto r1 = h.Result(t.id, SlaMetric::kNextResponse, 1);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->start, At("2026-03-03T09:10:00+08:00"));  // the oldest unanswered message
  EXPECT_EQ(r1->due, At("2026-03-03T09:40:00+08:00"));
  h.clock.Advance(minutes(5));
  ASSERT_TRUE(
      h.service->Comment(t.id, CommentKind::kPublicReply, "已处理", Actor::Agent("a1")).ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kNextResponse, 1)->state, MetricState::kFulfilled);
  EXPECT_EQ(h.Result(t.id, SlaMetric::kNextResponse, 1)->actual_minutes, 15);
  h.clock.Advance(minutes(5));
  m.body = "谢谢，还有一个问题";
  ASSERT_TRUE(h.service->OnCustomerMessage(m).ok());
  auto r2 = h.Result(t.id, SlaMetric::kNextResponse, 2);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->state, MetricState::kActive);
  EXPECT_EQ(r2->due, At("2026-03-03T10:00:00+08:00"));
}

TEST(SlaEngine, ResolutionPausesInPendingAndResumesWhereItStopped) {
  SlaPolicy p = testing::DefaultPolicy();
  p.targets[static_cast<size_t>(Priority::kNormal)] = {};
  p.targets[static_cast<size_t>(Priority::kNormal)][static_cast<size_t>(SlaMetric::kResolution)] =
      MetricTarget{minutes(480), true, {}};
  Harness h({p});
  Ticket t = h.NewTicket();
  h.clock.Advance(hours(1));
  ASSERT_TRUE(h.service->Update(t.id, SetStatus(TicketStatus::kPending), Actor::Agent("a1")).ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kResolution)->state, MetricState::kPaused);
  EXPECT_FALSE(h.store->Get(t.id)->next_wake.has_value());
  EXPECT_EQ(h.scheduler->size(), 0u);
  h.clock.Set(At("2026-03-05T14:00:00+08:00"));
  CustomerMessage m{t.conversation, "cust-1", "wecom", "我补充了信息", {}};
  auto reopened = h.service->OnCustomerMessage(m);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->status, TicketStatus::kOpen);  // a customer message reopens pending
  auto r = h.Result(t.id, SlaMetric::kResolution);
  EXPECT_EQ(r->state, MetricState::kActive);
  EXPECT_EQ(r->actual_minutes, 60);
  EXPECT_EQ(r->due, At("2026-03-06T12:00:00+08:00"));  // 420 left: 240 Thursday + 180 Friday
  // The pause is rebuilt from the events after a restart, not from the mutable row.
  h.Restart();
  ASSERT_TRUE(h.service->Evaluate(t.id).ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kResolution)->due, At("2026-03-06T12:00:00+08:00"));
}

TEST(SlaEngine, BotRepliesAndInternalNotesNeverFulfilAMetric) {
  Harness h;
  Ticket t = h.NewTicket();
  h.clock.Advance(minutes(2));
  ASSERT_TRUE(h.service->Comment(t.id, CommentKind::kBotReply, "机器人回复", Actor::Bot()).ok());
  ASSERT_TRUE(
      h.service->Comment(t.id, CommentKind::kInternalNote, "内部备注", Actor::Agent("a1")).ok());
  auto r = h.Result(t.id, SlaMetric::kFirstResponse);
  EXPECT_EQ(r->state, MetricState::kActive);
  EXPECT_FALSE(r->fulfilled_at.has_value());
  EXPECT_TRUE(h.outbox.replies.empty());  // nothing goes to the customer
  EXPECT_EQ(h.store->Get(t.id)->status, TicketStatus::kNew);
}

TEST(SlaEngine, PriorityChangeRetargetsTheDeadline) {
  Harness h;
  Ticket t = h.NewTicket();
  EXPECT_EQ(h.Result(t.id, SlaMetric::kFirstResponse)->due, At("2026-03-03T10:00:00+08:00"));
  h.clock.Advance(minutes(5));
  auto u = h.service->Update(t.id, SetPriority(Priority::kUrgent), Actor::Agent("sup"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kFirstResponse)->due, At("2026-03-03T09:15:00+08:00"));
  EXPECT_EQ(u->next_wake, At("2026-03-03T09:12:00+08:00"));
  EXPECT_EQ(h.scheduler->NextDue(), At("2026-03-03T09:12:00+08:00"));
}

TEST(SlaEngine, WarningNotifiesAndBreachReassignsTheGroup) {
  SlaPolicy p = testing::DefaultPolicy();
  EscalationAction notify;
  notify.on = EscalationAction::On::kWarning;
  notify.kind = EscalationAction::Kind::kNotify;
  notify.notify = "assignee";
  EscalationAction reassign;
  reassign.on = EscalationAction::On::kBreach;
  reassign.metric = SlaMetric::kFirstResponse;
  reassign.kind = EscalationAction::Kind::kReassignGroup;
  reassign.group = "l2";
  p.escalations = {notify, reassign};
  Harness h({p});
  Ticket t = h.NewTicket();
  ASSERT_TRUE(h.service
                  ->Update(
                      t.id,
                      [] {
                        TicketUpdate u;
                        u.assignee = "a1";
                        return u;
                      }(),
                      Actor::Agent("sup"))
                  .ok());
  h.clock.Advance(minutes(48));
  h.scheduler->RunDue();
  ASSERT_EQ(h.notifier.count(), 1u);
  EXPECT_EQ(h.notifier.seen[0].kind, "warning");
  EXPECT_EQ(h.notifier.seen[0].assignee, "a1");
  EXPECT_EQ(h.notifier.seen[0].metric, SlaMetric::kFirstResponse);
  EXPECT_EQ(h.store->Get(t.id)->group, "support");
  h.clock.Advance(minutes(12));
  h.scheduler->RunDue();
  const Ticket after = *h.store->Get(t.id);
  EXPECT_EQ(after.group, "l2");
  EXPECT_EQ(after.assignee, "");
  bool audited = false;
  for (const auto& e : h.EventsOf(t.id, EventKind::kFieldChanged)) {
    if (e.field == "group" && e.after == "l2") audited = e.actor.kind == ActorKind::kSystem;
  }
  EXPECT_TRUE(audited);
  EXPECT_EQ(h.notifier.count(), 1u);  // the warning notification is not repeated
}

TEST(SlaEngine, PeriodicUpdatePausesWhilePending) {
  SlaPolicy p = testing::DefaultPolicy();
  p.targets[static_cast<size_t>(Priority::kNormal)] = {};
  p.targets[static_cast<size_t>(Priority::kNormal)]
           [static_cast<size_t>(SlaMetric::kPeriodicUpdate)] = MetricTarget{minutes(120), true, {}};
  Harness h({p});
  Ticket t = h.NewTicket();
  ASSERT_TRUE(
      h.service->Comment(t.id, CommentKind::kPublicReply, "处理中", Actor::Agent("a1")).ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kPeriodicUpdate, 1)->due, At("2026-03-03T11:00:00+08:00"));
  h.clock.Advance(minutes(60));
  ASSERT_TRUE(h.service->Update(t.id, SetStatus(TicketStatus::kPending), Actor::Agent("a1")).ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kPeriodicUpdate, 1)->state, MetricState::kPaused);
  h.clock.Set(At("2026-03-04T09:00:00+08:00"));
  ASSERT_TRUE(h.service->Update(t.id, SetStatus(TicketStatus::kOpen), Actor::Agent("a1")).ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kPeriodicUpdate, 1)->due, At("2026-03-04T10:00:00+08:00"));
  h.clock.Advance(minutes(30));
  ASSERT_TRUE(h.service->Comment(t.id, CommentKind::kPublicReply, "进展", Actor::Agent("a1")).ok());
  EXPECT_EQ(h.Result(t.id, SlaMetric::kPeriodicUpdate, 1)->state, MetricState::kFulfilled);
  EXPECT_EQ(h.Result(t.id, SlaMetric::kPeriodicUpdate, 1)->actual_minutes, 90);
  EXPECT_EQ(h.Result(t.id, SlaMetric::kPeriodicUpdate, 2)->state, MetricState::kActive);
}

TEST(Tickets, SynchronousCallOnTheWriterThreadFailsInsteadOfDeadlocking) {
  Harness h;
  Ticket t = h.NewTicket();
  std::promise<StatusCode> code;
  h.service->UpdateAsync(
      t.id, SetPriority(Priority::kHigh), Actor::Agent("a1"),
      [&](Result<Ticket>) { code.set_value(h.service->Evaluate(t.id).status().code()); });
  EXPECT_EQ(code.get_future().get(), StatusCode::kFailedPrecondition);
}

TEST(Tickets, AutoPriorityRaisesUrgentFirstMessages) {
  Harness h;
  Ticket t = h.NewTicket("紧急！无法登录系统");
  EXPECT_EQ(t.priority, Priority::kHigh);
  auto changes = h.EventsOf(t.id, EventKind::kFieldChanged);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].field, "priority");
  EXPECT_EQ(changes[0].before, "normal");
  EXPECT_EQ(changes[0].after, "high");
  EXPECT_EQ(changes[0].actor.kind, ActorKind::kSystem);
}

TEST(Tickets, PublicReplyGoesToTheOutboxInTheSameCommit) {
  Harness h;
  Ticket t = h.NewTicket();
  ASSERT_TRUE(h.service->Comment(t.id, CommentKind::kPublicReply, "您好", Actor::Agent("a1")).ok());
  ASSERT_EQ(h.outbox.replies.size(), 1u);
  EXPECT_EQ(h.outbox.replies[0].body, "您好");
  EXPECT_EQ(h.outbox.replies[0].requester, "cust-1");
  EXPECT_EQ(h.outbox.replies[0].agent, "a1");
  auto replies = h.EventsOf(t.id, EventKind::kAgentReply);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(h.outbox.replies[0].event_id, replies[0].id);
  // A reply to an unknown ticket writes nothing.
  auto missing =
      h.service->Comment(TicketId(999), CommentKind::kPublicReply, "x", Actor::Agent("a1"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.outbox.replies.size(), 1u);
}

TEST(Tickets, AFailedReplyLeavesNoTraceInTheStoreOrTheWritersCache) {
  Harness h;
  Ticket t = h.NewTicket();
  h.clock.Advance(minutes(10));
  h.outbox.fail_next = true;
  auto failed = h.service->Comment(t.id, CommentKind::kPublicReply, "您好", Actor::Agent("a1"));
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(h.EventsOf(t.id, EventKind::kAgentReply).empty());
  // The next operation works from the committed state: the lost reply neither opened the ticket
  // nor fulfilled first_response, which is therefore breached on time.
  ASSERT_TRUE(h.service->Update(t.id, SetGroup("billing"), Actor::Agent("a1")).ok());
  EXPECT_EQ((*h.store->Get(t.id)).status, TicketStatus::kNew);
  h.clock.Advance(minutes(50));
  h.scheduler->RunDue();
  auto r = h.Result(t.id, SlaMetric::kFirstResponse);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->breached);
  EXPECT_EQ(h.EventsOf(t.id, EventKind::kSlaBreach).size(), 1u);
  const Ticket now = *h.store->Get(t.id);
  EXPECT_EQ(now.status, TicketStatus::kNew);
  EXPECT_EQ(now.group, "billing");
}

TEST(Tickets, MergeStopsTheSourcesSlaKeepsItsEventsAndRoutesItsConversationToTheTarget) {
  Harness h;
  Ticket target = h.NewTicket("第一次咨询");
  Ticket source = h.NewTicket("同一个问题又问了一次");
  h.clock.Advance(minutes(5));
  auto merged = h.service->Merge(source.id, target.id, Actor::Agent("a1"));
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->id, target.id);
  // Audit events on both, the source closed by the merge, its message still on it.
  auto into = h.EventsOf(source.id, EventKind::kMerged);
  ASSERT_EQ(into.size(), 1u);
  EXPECT_EQ(into[0].field, "merged_into");
  EXPECT_EQ(into[0].after, target.id.ToString());
  EXPECT_EQ(into[0].actor.id, "a1");
  auto from = h.EventsOf(target.id, EventKind::kMerged);
  ASSERT_EQ(from.size(), 1u);
  EXPECT_EQ(from[0].field, "merged_from");
  EXPECT_EQ(from[0].after, source.id.ToString());
  auto kept = h.EventsOf(source.id, EventKind::kCustomerMessage);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].body, "同一个问题又问了一次");
  const Ticket closed = *h.store->Get(source.id);
  EXPECT_EQ(closed.status, TicketStatus::kClosed);
  EXPECT_FALSE(closed.next_wake.has_value());
  // The source's SLA is stopped: two days later only the target warned and breached.
  h.clock.Advance(hours(48));
  h.scheduler->RunDue();
  EXPECT_TRUE(h.EventsOf(source.id, EventKind::kSlaWarning).empty());
  EXPECT_TRUE(h.EventsOf(source.id, EventKind::kSlaBreach).empty());
  EXPECT_FALSE(h.EventsOf(target.id, EventKind::kSlaBreach).empty());
  // A later message on the source's conversation lands on the target, not in a follow-up.
  CustomerMessage m;
  m.conversation = source.conversation;
  m.requester = "cust-1";
  m.channel = "wecom";
  m.body = "还在吗？";
  auto landed = h.service->OnCustomerMessage(m);
  ASSERT_TRUE(landed.ok()) << landed.status().ToString();
  EXPECT_EQ(landed->id, target.id);
  EXPECT_EQ(h.EventsOf(target.id, EventKind::kCustomerMessage).size(), 2u);
  // Bad merges name the problem and change nothing.
  EXPECT_EQ(h.service->Merge(target.id, target.id, Actor::Agent("a1")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(h.service->Merge(target.id, TicketId(999), Actor::Agent("a1")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(h.service->Merge(source.id, target.id, Actor::Agent("a1")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.EventsOf(target.id, EventKind::kMerged).size(), 1u);
}

TEST(Tickets, LoadTimersReturnsEveryPendingWakeUpInInstantOrder) {
  Harness h;
  EXPECT_TRUE((*h.store->LoadTimers()).empty());
  Ticket only = h.NewTicket();
  auto one = h.store->LoadTimers();
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);  // first == last instant: still found
  EXPECT_EQ((*one)[0].first, only.id);
  // Tickets created in reverse instant order of their wake-ups (urgent ones wake sooner), spread
  // over both halves of the instant range the store reads in parallel.
  std::map<int64_t, TimePoint> expected{{only.id.value(), *only.next_wake}};
  for (int i = 0; i < 40; ++i) {
    h.clock.Advance(minutes(7));
    Ticket t = h.NewTicket(i % 3 == 0 ? "紧急：无法登录" : "你好");
    ASSERT_TRUE(t.next_wake.has_value());
    expected[t.id.value()] = *t.next_wake;
  }
  auto timers = h.store->LoadTimers();
  ASSERT_TRUE(timers.ok());
  ASSERT_EQ(timers->size(), expected.size());
  for (size_t i = 0; i < timers->size(); ++i) {
    EXPECT_EQ((*timers)[i].second, expected[(*timers)[i].first.value()]);
    if (i > 0) {
      EXPECT_LE((*timers)[i - 1].second, (*timers)[i].second);
    }
  }
}

TEST(Tickets, StatusRulesAndUnknownIdsAreClearErrors) {
  Harness h;
  Ticket t = h.NewTicket();
  auto bad = h.service->Update(t.id, SetStatus(TicketStatus::kClosed), Actor::Agent("a1"));
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find("only a solved ticket can be closed"), std::string::npos);
  EXPECT_EQ(h.service->Update(TicketId(4242), SetPriority(Priority::kLow), Actor::Agent("a1"))
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(h.service->Evaluate(TicketId(4242)).status().code(), StatusCode::kNotFound);
  // The failed update left no audit event behind.
  for (const auto& e : h.EventsOf(t.id, EventKind::kFieldChanged))
    EXPECT_NE(e.field, "status");
}

TEST(Tickets, MessageAfterClosedOpensALinkedFollowUp) {
  Harness h;
  Ticket t = h.NewTicket();
  ASSERT_TRUE(h.service->Update(t.id, SetStatus(TicketStatus::kSolved), Actor::Agent("a1")).ok());
  ASSERT_TRUE(h.service->Update(t.id, SetStatus(TicketStatus::kClosed), Actor::Agent("a1")).ok());
  CustomerMessage m{t.conversation, "cust-1", "wecom", "又出问题了", {}};
  auto follow = h.service->OnCustomerMessage(m);
  ASSERT_TRUE(follow.ok());
  EXPECT_NE(follow->id, t.id);
  EXPECT_EQ(follow->follow_up_of, t.id);
  EXPECT_EQ(follow->status, TicketStatus::kNew);
  auto links = h.EventsOf(t.id, EventKind::kFollowUp);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].after, follow->id.ToString());
  EXPECT_EQ(h.store->Get(t.id)->status, TicketStatus::kClosed);
  // A conversation without a ticket gets its first one (the bot's hand-off).
  CustomerMessage first{ConversationId(777), "cust-2", "wecom", "转人工", {}};
  auto opened = h.service->OnCustomerMessage(first);
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->follow_up_of.valid());
  EXPECT_EQ(opened->status, TicketStatus::kNew);
}

TEST(Tickets, SolvedPastTheReopenWindowFollowsUpInsteadOfReopening) {
  Harness h;
  Ticket t = h.NewTicket();
  ASSERT_TRUE(h.service->Update(t.id, SetStatus(TicketStatus::kSolved), Actor::Agent("a1")).ok());
  h.clock.Advance(hours(24));
  CustomerMessage m{t.conversation, "cust-1", "wecom", "还是不行", {}};
  auto reopened = h.service->OnCustomerMessage(m);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->id, t.id);
  EXPECT_EQ(reopened->status, TicketStatus::kOpen);
  ASSERT_TRUE(h.service->Update(t.id, SetStatus(TicketStatus::kSolved), Actor::Agent("a1")).ok());
  h.clock.Advance(hours(24 * 8));
  auto follow = h.service->OnCustomerMessage(m);
  ASSERT_TRUE(follow.ok());
  EXPECT_EQ(follow->follow_up_of, t.id);
}

TEST(AuditTrail, EveryChangeHasActorTimeBeforeAndAfterAndCannotBeRewritten) {
  Harness h;
  Ticket t = h.NewTicket();
  h.clock.Advance(minutes(3));
  ASSERT_TRUE(h.service
                  ->Update(
                      t.id,
                      [] {
                        TicketUpdate u = SetStatus(TicketStatus::kOpen);
                        u.group = "vip";
                        u.assignee = "a7";
                        u.tags = std::vector<std::string>{"refund"};
                        return u;
                      }(),
                      Actor{ActorKind::kApiToken, "crm"})
                  .ok());
  auto changes = h.EventsOf(t.id, EventKind::kFieldChanged);
  std::map<std::string, TicketEvent> by_field;
  for (const auto& e : changes)
    by_field[e.field] = e;
  EXPECT_EQ(by_field["status"].before, "new");
  EXPECT_EQ(by_field["status"].after, "open");
  EXPECT_EQ(by_field["group"].before, "support");
  EXPECT_EQ(by_field["group"].after, "vip");
  EXPECT_EQ(by_field["assignee"].after, "a7");
  EXPECT_EQ(by_field["tags"].after, "refund");
  EXPECT_EQ(by_field["status"].actor.kind, ActorKind::kApiToken);
  EXPECT_EQ(by_field["status"].actor.id, "crm");
  EXPECT_EQ(by_field["status"].at, At("2026-03-03T09:03:00+08:00"));
  Status rewrite = h.writer->Run(
      [](storage::Database& db) { return db.Exec("UPDATE ticket_events SET after = 'x'"); });
  EXPECT_FALSE(rewrite.ok());
  Status erase =
      h.writer->Run([](storage::Database& db) { return db.Exec("DELETE FROM ticket_events"); });
  EXPECT_FALSE(erase.ok());
}

TEST(Tickets, ListFiltersByStatusPriorityGroupSlaStateAndText) {
  Harness h;
  Ticket a = h.NewTicket();
  Ticket b = h.NewTicket("紧急 投诉");
  ASSERT_TRUE(h.service->Update(a.id, SetGroup("billing"), Actor::Agent("a1")).ok());
  TicketFilter f;
  f.priority = Priority::kHigh;
  auto high = h.store->List(f);
  ASSERT_TRUE(high.ok());
  ASSERT_EQ(high->size(), 1u);
  EXPECT_EQ((*high)[0].id, b.id);
  f = {};
  f.group = "billing";
  EXPECT_EQ(h.store->List(f)->size(), 1u);
  h.clock.Advance(hours(2));
  h.scheduler->RunDue();
  f = {};
  f.sla_state = "breached";
  EXPECT_EQ(h.store->List(f)->size(), 2u);
  f = {};
  f.text = "订单";
  EXPECT_EQ(h.store->List(f)->size(), 2u);
  f.text = "没有这个";
  EXPECT_TRUE(h.store->List(f)->empty());
}

TEST(Tickets, ACustomerMessageOpeningATicketGivesItASubject) {
  Harness h;
  CustomerMessage m{
      ConversationId(77), "cust-9", "wecom", "客户：发票怎么开\n机器人：请问您是否想问", {}};
  auto t = h.service->OnCustomerMessage(m);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->subject, "客户：发票怎么开");
}

}  // namespace
}  // namespace kefu::ticketing
