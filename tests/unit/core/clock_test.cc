#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/ids.h"

namespace kefu {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock(FromUnixSeconds(1'000));
  EXPECT_EQ(clock.NowUnixSeconds(), 1'000);
  clock.Advance(90s);
  EXPECT_EQ(clock.NowUnixSeconds(), 1'090);
  clock.Set(FromUnixMs(5));
  EXPECT_EQ(clock.NowUnixMs(), 5);
}

TEST(SystemClock, IsCloseToTheSystemTime) {
  SystemClock clock;
  auto system_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_LT(std::abs(clock.NowUnixMs() - system_ms), 1'000);
}

TEST(Id, TypedIdsCompareByValue) {
  TicketId a(1), b(2);
  EXPECT_LT(a, b);
  EXPECT_TRUE(a.valid());
  EXPECT_FALSE(TicketId().valid());
  EXPECT_EQ(b.ToString(), "2");
}

}  // namespace
}  // namespace kefu
