#include "channels/common/outbox.h"

#include <gtest/gtest.h>

#include <deque>

#include "tests/unit/channels/common/test_db.h"

namespace kefu::channels {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TestDb;

// Records sends; returns scripted outcomes first, then kSent.
class ScriptedSender : public ChannelSender {
 public:
  explicit ScriptedSender(const Clock& clock, RateLimit limit = {30, seconds(60)})
      : clock_(clock), limit_(limit) {}
  std::vector<std::pair<std::string, RateLimit>> Limits(const OutboxRow& row) override {
    return {{"test|" + row.message.destination, limit_}};
  }
  std::optional<std::string> HoldReason(storage::Database&, const OutboxRow& row,
                                        TimePoint) override {
    if (row.message.content == "hold me") return "policy says no";
    return std::nullopt;
  }
  SendOutcome Send(const OutboxRow& row) override {
    std::lock_guard lock(mu);
    sent_at.push_back(clock_.Now());
    contents.push_back(row.message.content);
    if (!script.empty()) {
      SendOutcome o = script.front();
      script.pop_front();
      return o;
    }
    return {};
  }
  std::mutex mu;
  std::deque<SendOutcome> script;
  std::vector<TimePoint> sent_at;
  std::vector<std::string> contents;

 private:
  const Clock& clock_;
  RateLimit limit_;
};

OutboundMessage Msg(std::string dest, std::string content, std::string key) {
  OutboundMessage m;
  m.channel = "test";
  m.app = "main";
  m.destination = std::move(dest);
  m.content = std::move(content);
  m.idempotency_key = std::move(key);
  return m;
}

void Enqueue(TestDb& db, const OutboundMessage& m, int64_t now_ms) {
  ASSERT_TRUE(db.writer
                  ->Run([&](storage::Database& d) -> Status {
                    return EnqueueOutbound(d, m, now_ms).status();
                  })
                  .ok());
}

OutboxRow Row(TestDb& db, int64_t id) {
  auto r = db.Read([&](storage::Database& d) { return GetOutboxRow(d, id); });
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : OutboxRow{};
}

TEST(Outbox, SameIdempotencyKeyIsStoredOnce) {
  TestDb db;
  auto m = Msg("u1", "hi", "reply:1:0");
  Result<std::optional<int64_t>> first = std::optional<int64_t>();
  Result<std::optional<int64_t>> second = std::optional<int64_t>();
  ASSERT_TRUE(db.writer
                  ->Run([&](storage::Database& d) -> Status {
                    first = EnqueueOutbound(d, m, 1);
                    second = EnqueueOutbound(d, m, 2);
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->has_value());
  EXPECT_FALSE(second->has_value());
}

TEST(OutboxDispatcher, HundredRepliesToOneMemberAllDeliveredNeverMoreThanThirtyPerMinute) {
  TestDb db;
  FakeClock clock;
  ScriptedSender sender(clock);
  OutboxDispatcher dispatcher(*db.writer, *db.reads, clock, db.registry);
  dispatcher.AddSender("test", "main", &sender);
  for (int i = 0; i < 100; ++i) {
    Enqueue(db,
            Msg("zhangsan", std::string("r").append(std::to_string(i)),
                std::string("k").append(std::to_string(i))),
            clock.NowUnixMs());
  }
  int total = 0;
  for (int round = 0; round < 100 && total < 100; ++round) {
    total += dispatcher.RunOnce();
    clock.Advance(seconds(7));
  }
  ASSERT_EQ(total, 100);
  ASSERT_EQ(sender.sent_at.size(), 100u);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(sender.contents[i], std::string("r").append(std::to_string(i)));  // order kept
    size_t in_window = 0;
    for (size_t j = i; j < 100 && sender.sent_at[j] < sender.sent_at[i] + seconds(60); ++j) {
      ++in_window;
    }
    EXPECT_LE(in_window, 30u);
  }
  auto sent = db.Read([](storage::Database& d) { return ListOutbox(d, OutboxState::kSent, 1000); });
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->size(), 100u);
}

TEST(OutboxDispatcher, TransientFailureRetriesWithBackoffThenDeadLettersWithPlatformError) {
  TestDb db;
  FakeClock clock;
  ScriptedSender sender(clock);
  DispatcherOptions opts;
  opts.max_attempts = 3;
  opts.base_backoff = seconds(10);
  OutboxDispatcher dispatcher(*db.writer, *db.reads, clock, db.registry, opts);
  dispatcher.AddSender("test", "main", &sender);
  for (int i = 0; i < 3; ++i) {
    sender.script.push_back({SendOutcome::Kind::kRetry, "http 502", {}});
  }
  Enqueue(db, Msg("u", "x", "k"), clock.NowUnixMs());
  EXPECT_EQ(dispatcher.RunOnce(), 0);
  OutboxRow r = Row(db, 1);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.state, OutboxState::kPending);
  EXPECT_GE(r.next_attempt_ms, clock.NowUnixMs() + 5000);  // 10 s with jitter in [0.5, 1]
  EXPECT_LE(r.next_attempt_ms, clock.NowUnixMs() + 10000);
  EXPECT_EQ(dispatcher.RunOnce(), 0);  // not due yet: no call
  EXPECT_EQ(sender.sent_at.size(), 1u);
  clock.Advance(seconds(10));
  dispatcher.RunOnce();
  EXPECT_EQ(Row(db, 1).attempts, 2);
  clock.Advance(seconds(20));
  dispatcher.RunOnce();
  r = Row(db, 1);
  EXPECT_EQ(r.state, OutboxState::kDead);
  EXPECT_EQ(r.last_error, "http 502");
  clock.Advance(seconds(3600));
  dispatcher.RunOnce();
  EXPECT_EQ(sender.sent_at.size(), 3u);
}

TEST(OutboxDispatcher, BackoffGrowsExponentiallyAndIsCapped) {
  DispatcherOptions o;
  o.base_backoff = seconds(1);
  o.max_backoff = seconds(60);
  EXPECT_EQ(BackoffDelay(o, 1, 1.0), seconds(1));
  EXPECT_EQ(BackoffDelay(o, 4, 1.0), seconds(8));
  EXPECT_EQ(BackoffDelay(o, 4, 0.0), seconds(4));
  EXPECT_EQ(BackoffDelay(o, 20, 1.0), seconds(60));
}

TEST(OutboxDispatcher, PlatformRateLimitWaitsWithoutCountingAnAttempt) {
  TestDb db;
  FakeClock clock;
  ScriptedSender sender(clock);
  OutboxDispatcher dispatcher(*db.writer, *db.reads, clock, db.registry);
  dispatcher.AddSender("test", "main", &sender);
  sender.script.push_back(
      {SendOutcome::Kind::kRateLimited, "45009 api freq out of limit", clock.Now() + seconds(60)});
  Enqueue(db, Msg("u", "a", "k1"), clock.NowUnixMs());
  Enqueue(db, Msg("u", "b", "k2"), clock.NowUnixMs());
  EXPECT_EQ(dispatcher.RunOnce(), 0);
  EXPECT_EQ(sender.sent_at.size(), 1u);  // the second row waits behind the first (order)
  OutboxRow r = Row(db, 1);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.last_error, "45009 api freq out of limit");
  clock.Advance(seconds(30));
  EXPECT_EQ(dispatcher.RunOnce(), 0);
  EXPECT_EQ(sender.sent_at.size(), 1u);  // still blocked: no retry storm
  clock.Advance(seconds(31));
  EXPECT_EQ(dispatcher.RunOnce(), 2);
  EXPECT_EQ(sender.contents, (std::vector<std::string>{"a", "a", "b"}));
}

TEST(OutboxDispatcher, HeldRowIsReportedAndNotSent) {
  TestDb db;
  FakeClock clock;
  ScriptedSender sender(clock);
  OutboxDispatcher dispatcher(*db.writer, *db.reads, clock, db.registry);
  dispatcher.AddSender("test", "main", &sender);
  Enqueue(db, Msg("u", "hold me", "k1"), clock.NowUnixMs());
  EXPECT_EQ(dispatcher.RunOnce(), 0);
  EXPECT_TRUE(sender.sent_at.empty());
  OutboxRow r = Row(db, 1);
  EXPECT_EQ(r.state, OutboxState::kHeld);
  EXPECT_EQ(r.last_error, "policy says no");
  auto held = db.Read([](storage::Database& d) { return ListOutbox(d, OutboxState::kHeld, 10); });
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), 1u);
}

TEST(OutboxDispatcher, UnsentRowsSurviveARestart) {
  TestDb db;
  FakeClock clock;
  Enqueue(db, Msg("u", "after crash", "k1"), clock.NowUnixMs());
  {
    // First process "dies" before dispatching: nothing sent.
  }
  ScriptedSender sender(clock);
  OutboxDispatcher dispatcher(*db.writer, *db.reads, clock, db.registry);
  dispatcher.AddSender("test", "main", &sender);
  EXPECT_EQ(dispatcher.RunOnce(), 1);
  EXPECT_EQ(dispatcher.RunOnce(), 0);
  EXPECT_EQ(sender.contents, std::vector<std::string>{"after crash"});
}

TEST(OutboxDispatcher, DifferentDestinationsAreIndependent) {
  TestDb db;
  FakeClock clock;
  ScriptedSender sender(clock, {1, seconds(60)});
  OutboxDispatcher dispatcher(*db.writer, *db.reads, clock, db.registry);
  dispatcher.AddSender("test", "main", &sender);
  Enqueue(db, Msg("a", "1", "k1"), clock.NowUnixMs());
  Enqueue(db, Msg("a", "2", "k2"), clock.NowUnixMs());
  Enqueue(db, Msg("b", "3", "k3"), clock.NowUnixMs());
  EXPECT_EQ(dispatcher.RunOnce(), 2);
  clock.Advance(seconds(60));
  EXPECT_EQ(dispatcher.RunOnce(), 1);
}

}  // namespace
}  // namespace kefu::channels
