// Time, injected. Production code asks a Clock& for the time and never calls
// std::chrono::system_clock::now() itself, so tests can use FakeClock and never sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace kefu {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC), millisecond resolution. Thread-safe.
  virtual TimePoint Now() const = 0;
  // Milliseconds since the Unix epoch.
  int64_t NowUnixMs() const { return Now().time_since_epoch().count(); }
  int64_t NowUnixSeconds() const { return NowUnixMs() / 1000; }
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// A clock that only moves when told to. Thread-safe; Set may move time backwards (clock jumps).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::milliseconds(1'767'225'600'000)))
      : now_ms_(start.time_since_epoch().count()) {}
  TimePoint Now() const override;
  void Set(TimePoint t) { now_ms_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::milliseconds d) { now_ms_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_ms_;
};

TimePoint FromUnixMs(int64_t ms);
TimePoint FromUnixSeconds(int64_t s);
int64_t ToUnixMs(TimePoint t);

}  // namespace kefu
