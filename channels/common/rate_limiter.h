// Per-destination rate limits that queue and never drop (spec §2.7, §3, §4.4).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"

namespace kefu::channels {

// A sliding-window limit: at most `limit` sends to one key within any `window`.
struct RateLimit {
  int limit = 20;
  std::chrono::milliseconds window{60'000};
};

// Sliding-window limiter keyed by destination ("wecom|main|zhangsan"). It never drops: when a
// key is over its limit, TryAcquire returns the earliest time a send becomes allowed so the
// caller keeps the message queued until then. Penalise() blocks a key (e.g. 60 s after 45009).
// Thread-safe (one mutex guarding `keys_`).
class RateLimiter {
 public:
  // Records `sends` platform sends at `now` (a message split into parts is several sends) and
  // returns nullopt if they all fit in the window; otherwise records nothing and returns the time
  // at which the key has capacity for them. More than `limit.limit` sends fit only into an empty
  // window (they are never refused forever).
  std::optional<TimePoint> TryAcquire(const std::string& key, const RateLimit& limit, TimePoint now,
                                      int sends = 1);
  // Blocks `key` until `until` (platform said we are too fast).
  void Penalise(const std::string& key, TimePoint until);
  // Drops bookkeeping for keys idle for longer than `idle`.
  void Prune(TimePoint now, std::chrono::milliseconds idle);

 private:
  struct KeyState {
    std::deque<TimePoint> sent;  // send times within the window, oldest first
    TimePoint blocked_until{};
  };
  std::mutex mu_;
  std::map<std::string, KeyState> keys_;  // guarded by mu_
};

}  // namespace kefu::channels
