// 1,000,000 active SLA timers: memory per timer of the scheduler's TimerHeap, insert and cancel
// cost, and the reload at start (SlaScheduler::Rebuild: read every pending wake-up from SQLite and
// build the heap).
//
// Usage: kefu_ticketing_timer_bench [timers=1000000]
#include <sys/resource.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "tests/bench/ticketing/bench_common.h"
#include "ticketing/timer_heap.h"

namespace kefu::ticketing::bench {
namespace {

// User + system CPU time of the whole process (every thread) so far.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

int Main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  const int64_t base = 1'772'503'200'000;
  std::mt19937_64 rng(7);
  std::vector<int64_t> due(static_cast<size_t>(n));
  for (auto& d : due)
    d = base + static_cast<int64_t>(rng() % (30LL * 24 * 3600 * 1000));

  TimerHeap heap;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i)
    heap.Set(TicketId(i + 1), FromUnixMs(due[static_cast<size_t>(i)]));
  const double insert_ns =
      Seconds(std::chrono::steady_clock::now() - start) * 1e9 / static_cast<double>(n);
  std::printf("timers=%lld bytes_per_timer=%.1f (grown without reserve)\n",
              static_cast<long long>(n),
              static_cast<double>(heap.MemoryBytes()) / static_cast<double>(n));
  // Re-target: move every timer (what a priority change does).
  start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i) {
    heap.Set(TicketId(i + 1), FromUnixMs(due[static_cast<size_t>(i)] - 60'000));
  }
  const double move_ns =
      Seconds(std::chrono::steady_clock::now() - start) * 1e9 / static_cast<double>(n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(i)] = i + 1;
  std::shuffle(order.begin(), order.end(), rng);
  start = std::chrono::steady_clock::now();
  for (int64_t id : order)
    heap.Cancel(TicketId(id));
  const double cancel_ns =
      Seconds(std::chrono::steady_clock::now() - start) * 1e9 / static_cast<double>(n);
  std::printf("insert_ns=%.0f retarget_ns=%.0f cancel_ns=%.0f left=%zu\n", insert_ns, move_ns,
              cancel_ns, heap.size());

  // Reload at start from SQLite.
  const std::string dir = TempDirectory();
  FakeClock clock(FromUnixMs(base));
  {
    Stack stack(dir + "/timers.db", clock);
    const auto fill_start = std::chrono::steady_clock::now();
    Status s = stack.writer->Run([&](storage::Database& db) -> Status {
      KEFU_ASSIGN_OR_RETURN(
          auto* st,
          db.Prepare("INSERT INTO tickets(status, priority, created_at_ms, updated_at_ms, "
                     "next_wake_ms) VALUES('open', 'normal', ?1, ?1, ?2)"));
      for (int64_t i = 0; i < n; ++i) {
        st->Reset();
        KEFU_RETURN_IF_ERROR(st->BindAll(base, due[static_cast<size_t>(i)]));
        KEFU_RETURN_IF_ERROR(st->Run());
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "fill failed: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("filled tickets=%lld seconds=%.2f\n", static_cast<long long>(n),
                Seconds(std::chrono::steady_clock::now() - fill_start));
    // The store's share of the reload: reading the rows in instant order.
    for (int round = 0; round < 2; ++round) {
      start = std::chrono::steady_clock::now();
      auto rows = stack.store->LoadTimers();
      std::printf("load_timers round=%d rows=%zu seconds=%.3f\n", round,
                  rows.ok() ? rows->size() : 0, Seconds(std::chrono::steady_clock::now() - start));
    }
    SlaScheduler scheduler(*stack.service, clock);
    for (int round = 0; round < 3; ++round) {
      const double cpu_before = CpuSeconds();
      start = std::chrono::steady_clock::now();
      Status r = scheduler.Rebuild();
      const double reload = Seconds(std::chrono::steady_clock::now() - start);
      std::printf("reload round=%d ok=%d timers=%zu seconds=%.3f cpu_seconds=%.3f\n", round,
                  r.ok() ? 1 : 0, scheduler.size(), reload, CpuSeconds() - cpu_before);
    }
  }
  // Memory when built the way Rebuild builds it (reserved to the exact count).
  TimerHeap exact;
  exact.Reserve(static_cast<size_t>(n), n);
  for (int64_t i = 0; i < n; ++i)
    exact.Set(TicketId(i + 1), FromUnixMs(due[static_cast<size_t>(i)]));
  std::printf("bytes_per_timer=%.1f (as rebuilt at start)\n",
              static_cast<double>(exact.MemoryBytes()) / static_cast<double>(n));
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace kefu::ticketing::bench

int main(int argc, char** argv) {
  return kefu::ticketing::bench::Main(argc, argv);
}
