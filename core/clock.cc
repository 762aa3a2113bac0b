#include "core/clock.h"

namespace kefu {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

TimePoint FakeClock::Now() const {
  return FromUnixMs(now_ms_.load());
}

TimePoint FromUnixMs(int64_t ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}
TimePoint FromUnixSeconds(int64_t s) {
  return FromUnixMs(s * 1000);
}
int64_t ToUnixMs(TimePoint t) {
  return t.time_since_epoch().count();
}

}  // namespace kefu
