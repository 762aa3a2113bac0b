#include "ticketing/timer_heap.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace kefu::ticketing {
namespace {

TEST(TimerHeap, PopsInInstantOrderAndOnlyWhenDue) {
  TimerHeap heap;
  heap.Set(TicketId(3), FromUnixMs(300));
  heap.Set(TicketId(1), FromUnixMs(100));
  heap.Set(TicketId(2), FromUnixMs(200));
  EXPECT_EQ(heap.Earliest(), FromUnixMs(100));
  EXPECT_FALSE(heap.PopDue(FromUnixMs(99)).has_value());
  EXPECT_EQ(heap.PopDue(FromUnixMs(250)), TicketId(1));
  EXPECT_EQ(heap.PopDue(FromUnixMs(250)), TicketId(2));
  EXPECT_FALSE(heap.PopDue(FromUnixMs(250)).has_value());
  heap.Set(TicketId(3), FromUnixMs(50));  // moved earlier
  EXPECT_EQ(heap.PopDue(FromUnixMs(60)), TicketId(3));
  EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeap, MatchesAModelUnderRandomSetCancelAndPop) {
  TimerHeap heap;
  std::map<int64_t, int64_t> model;  // id -> instant
  std::mt19937_64 rng(99);
  int64_t now = 0;
  for (int step = 0; step < 200000; ++step) {
    const int64_t id = static_cast<int64_t>(rng() % 2000) + 1;
    switch (rng() % 4) {
      case 0:
      case 1: {
        const int64_t at = now + static_cast<int64_t>(rng() % 10000);
        heap.Set(TicketId(id), FromUnixMs(at));
        model[id] = at;
        break;
      }
      case 2:
        heap.Cancel(TicketId(id));
        model.erase(id);
        break;
      default: {
        now += static_cast<int64_t>(rng() % 50);
        while (auto popped = heap.PopDue(FromUnixMs(now))) {
          auto it = model.find(popped->value());
          ASSERT_NE(it, model.end());
          ASSERT_LE(it->second, now);
          for (const auto& [other, at] : model)
            ASSERT_GE(at, it->second) << other;
          model.erase(it);
        }
        for (const auto& [other, at] : model)
          ASSERT_GT(at, now);
        break;
      }
    }
    ASSERT_EQ(heap.size(), model.size());
    ASSERT_EQ(heap.Contains(TicketId(id)), model.contains(id));
  }
}

}  // namespace
}  // namespace kefu::ticketing
