#include "channels/common/rate_limiter.h"

#include <gtest/gtest.h>

#include "channels/common/replay_cache.h"

namespace kefu::channels {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimiter, HundredSendsToOneMemberNeverExceedThirtyInAnyMinute) {
  FakeClock clock;
  RateLimiter limiter;
  RateLimit limit{30, seconds(60)};
  std::vector<TimePoint> sent;
  int queued = 100;
  while (queued > 0) {
    auto wait = limiter.TryAcquire("wecom|main|zhangsan", limit, clock.Now());
    if (!wait) {
      sent.push_back(clock.Now());
      --queued;
      clock.Advance(milliseconds(100));
    } else {
      ASSERT_GT(*wait, clock.Now());
      clock.Set(*wait);  // the dispatcher keeps the row queued until then
    }
  }
  ASSERT_EQ(sent.size(), 100u);
  for (size_t i = 0; i < sent.size(); ++i) {
    size_t in_window = 0;
    for (size_t j = i; j < sent.size() && sent[j] < sent[i] + seconds(60); ++j)
      ++in_window;
    EXPECT_LE(in_window, 30u) << "window starting at send " << i;
  }
}

TEST(RateLimiter, EachSplitPartCountsAsOnePlatformSend) {
  FakeClock clock;
  RateLimiter limiter;
  RateLimit limit{30, seconds(60)};
  TimePoint start = clock.Now();
  for (int i = 0; i < 10; ++i) {  // ten messages of three parts: 30 sends
    EXPECT_FALSE(limiter.TryAcquire("k", limit, clock.Now(), 3)) << i;
    clock.Advance(seconds(1));
  }
  auto wait = limiter.TryAcquire("k", limit, clock.Now(), 1);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, start + seconds(60));  // the first message's three parts leave together
  clock.Set(start + seconds(60));
  EXPECT_FALSE(limiter.TryAcquire("k", limit, clock.Now(), 3));
  // Two parts need two free slots: at 61 s only the second message's parts have left.
  clock.Set(start + seconds(61));
  EXPECT_FALSE(limiter.TryAcquire("k", limit, clock.Now(), 2));
  auto full = limiter.TryAcquire("k", limit, clock.Now(), 2);
  ASSERT_TRUE(full);
  EXPECT_EQ(*full, start + seconds(62));
}

TEST(RateLimiter, MessageWithMorePartsThanTheLimitWaitsForAnEmptyWindow) {
  FakeClock clock;
  RateLimiter limiter;
  RateLimit limit{20, seconds(60)};
  TimePoint start = clock.Now();
  EXPECT_FALSE(limiter.TryAcquire("k", limit, clock.Now(), 1));
  clock.Advance(seconds(5));
  auto wait = limiter.TryAcquire("k", limit, clock.Now(), 25);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, start + seconds(60));
  clock.Set(*wait);
  EXPECT_FALSE(limiter.TryAcquire("k", limit, clock.Now(), 25));  // never refused forever
  EXPECT_TRUE(limiter.TryAcquire("k", limit, clock.Now(), 1));
}

TEST(RateLimiter, KeysAreIndependentAndPenaltyBlocks) {
  FakeClock clock;
  RateLimiter limiter;
  RateLimit one{1, seconds(60)};
  EXPECT_FALSE(limiter.TryAcquire("a", one, clock.Now()));
  EXPECT_TRUE(limiter.TryAcquire("a", one, clock.Now()));
  EXPECT_FALSE(limiter.TryAcquire("b", one, clock.Now()));
  limiter.Penalise("c", clock.Now() + seconds(60));
  auto until = limiter.TryAcquire("c", one, clock.Now());
  ASSERT_TRUE(until);
  EXPECT_EQ(*until, clock.Now() + seconds(60));
  clock.Advance(seconds(60));
  EXPECT_FALSE(limiter.TryAcquire("c", one, clock.Now()));
}

TEST(ReplayWindow, StaleAndFutureTimestampsBeyondSkewAreNotFresh) {
  TimePoint now = FromUnixSeconds(1'700'000'000);
  EXPECT_TRUE(IsFresh("1700000000", 1000, seconds(300), now));
  EXPECT_TRUE(IsFresh("1699999700", 1000, seconds(300), now));
  EXPECT_FALSE(IsFresh("1699999699", 1000, seconds(300), now));
  EXPECT_FALSE(IsFresh("1700000301", 1000, seconds(300), now));
  EXPECT_FALSE(IsFresh("", 1000, seconds(300), now));
  EXPECT_FALSE(IsFresh("17e9", 1000, seconds(300), now));
}

TEST(ReplayWindow, MillisecondTimestampsAreNotMixedWithSeconds) {
  TimePoint now = FromUnixSeconds(1'700'000'000);
  EXPECT_TRUE(IsFresh("1700000000000", 1, seconds(300), now));
  EXPECT_FALSE(IsFresh("1700000000000", 1000, seconds(300), now));
  EXPECT_FALSE(IsFresh("1700000000", 1, seconds(300), now));
}

TEST(ReplayWindow, ZeroSkewDisablesFreshnessCheck) {
  EXPECT_TRUE(IsFresh("1409659589", 1000, seconds(0), FromUnixSeconds(1'800'000'000)));
}

TEST(ReplayCache, RepeatedTripleInsideWindowIsSeenAndForgottenAfter) {
  FakeClock clock;
  ReplayCache cache(seconds(300));
  EXPECT_FALSE(cache.Seen("1", "n", "s", clock.Now()));
  EXPECT_TRUE(cache.Seen("1", "n", "s", clock.Now()));
  EXPECT_FALSE(cache.Seen("1", "n2", "s", clock.Now()));
  clock.Advance(seconds(301));
  EXPECT_FALSE(cache.Seen("1", "n", "s", clock.Now()));
}

}  // namespace
}  // namespace kefu::channels
