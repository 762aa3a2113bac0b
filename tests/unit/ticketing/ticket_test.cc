#include "ticketing/ticket.h"

#include <gtest/gtest.h>

namespace kefu::ticketing {
namespace {

using std::chrono::hours;

TEST(TicketStatusRules, ParsesKnownNamesAndNamesTheFieldOnUnknown) {
  EXPECT_EQ(*ParseTicketStatus("on_hold", "status"), TicketStatus::kOnHold);
  EXPECT_EQ(*ParsePriority("urgent", "priority"), Priority::kUrgent);
  auto bad = ParseTicketStatus("waiting", "status");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("status: unknown status \"waiting\""), std::string::npos);
  auto bad_p = ParsePriority("critical", "priority");
  ASSERT_FALSE(bad_p.ok());
  EXPECT_NE(bad_p.status().message().find("priority"), std::string::npos);
  for (auto s : {TicketStatus::kNew, TicketStatus::kOpen, TicketStatus::kPending,
                 TicketStatus::kOnHold, TicketStatus::kSolved, TicketStatus::kClosed}) {
    EXPECT_EQ(*ParseTicketStatus(ToString(s), "status"), s);
  }
}

TEST(TicketStatusRules, ClosedIsFinalAndReachedOnlyFromSolved) {
  EXPECT_TRUE(CheckTransition(TicketStatus::kOpen, TicketStatus::kPending).ok());
  EXPECT_TRUE(CheckTransition(TicketStatus::kSolved, TicketStatus::kClosed).ok());
  EXPECT_EQ(CheckTransition(TicketStatus::kOpen, TicketStatus::kClosed).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckTransition(TicketStatus::kClosed, TicketStatus::kOpen).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckTransition(TicketStatus::kOpen, TicketStatus::kNew).code(),
            StatusCode::kFailedPrecondition);
}

TEST(TicketStatusRules, CustomerMessageReopensOrFollowsUp) {
  const TimePoint now = FromUnixSeconds(1'800'000'000);
  Ticket t;
  for (auto s : {TicketStatus::kNew, TicketStatus::kOpen}) {
    t.status = s;
    EXPECT_EQ(EffectOfCustomerMessage(t, now, hours(24 * 7)), CustomerMessageEffect::kAppend);
  }
  for (auto s : {TicketStatus::kPending, TicketStatus::kOnHold}) {
    t.status = s;
    EXPECT_EQ(EffectOfCustomerMessage(t, now, hours(24 * 7)), CustomerMessageEffect::kReopen);
  }
  t.status = TicketStatus::kSolved;
  t.solved_at = now - hours(24);
  EXPECT_EQ(EffectOfCustomerMessage(t, now, hours(24 * 7)), CustomerMessageEffect::kReopen);
  t.solved_at = now - hours(24 * 8);
  EXPECT_EQ(EffectOfCustomerMessage(t, now, hours(24 * 7)), CustomerMessageEffect::kFollowUp);
  t.status = TicketStatus::kClosed;
  t.solved_at = now - hours(1);
  EXPECT_EQ(EffectOfCustomerMessage(t, now, hours(24 * 7)), CustomerMessageEffect::kFollowUp);
}

TEST(AutoPriority, KeywordRaisesButNeverLowers) {
  std::vector<AutoPriorityRule> rules = {{{"紧急", "投诉", "无法登录"}, {}, Priority::kHigh},
                                         {{"宕机"}, {"wecom"}, Priority::kUrgent}};
  EXPECT_EQ(ApplyAutoPriority(rules, "wecom", "我无法登录了", Priority::kNormal), Priority::kHigh);
  EXPECT_EQ(ApplyAutoPriority(rules, "wecom", "你好", Priority::kNormal), Priority::kNormal);
  EXPECT_EQ(ApplyAutoPriority(rules, "wecom", "我要投诉", Priority::kUrgent), Priority::kUrgent);
  EXPECT_EQ(ApplyAutoPriority(rules, "dingtalk", "系统宕机", Priority::kLow), Priority::kLow);
  EXPECT_EQ(ApplyAutoPriority(rules, "wecom", "系统宕机 紧急", Priority::kLow), Priority::kUrgent);
}

TEST(TicketSubject, FirstNonBlankLineTrimmedAndCutAtACodePointBoundary) {
  EXPECT_EQ(SubjectFromMessage("\n  \n  客户：怎么申请退款  \n机器人：请提供订单号"),
            "客户：怎么申请退款");
  EXPECT_EQ(SubjectFromMessage("退款退款退款", 4), "退款退款…");
  EXPECT_EQ(SubjectFromMessage("退款退款", 4), "退款退款");
  EXPECT_EQ(SubjectFromMessage("a😀b", 2), "a😀…");
  EXPECT_EQ(SubjectFromMessage(" \n\t"), "");
  EXPECT_EQ(SubjectFromMessage("single"), "single");
}

}  // namespace
}  // namespace kefu::ticketing
