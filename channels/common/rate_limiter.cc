#include "channels/common/rate_limiter.h"

#include <algorithm>

namespace kefu::channels {

std::optional<TimePoint> RateLimiter::TryAcquire(const std::string& key, const RateLimit& limit,
                                                 TimePoint now, int sends) {
  std::lock_guard lock(mu_);
  KeyState& st = keys_[key];
  if (now < st.blocked_until) return st.blocked_until;
  while (!st.sent.empty() && st.sent.front() + limit.window <= now)
    st.sent.pop_front();
  const size_t n = static_cast<size_t>(std::max(1, sends));
  const size_t cap = static_cast<size_t>(std::max(1, limit.limit));
  const size_t need = std::min(n, cap);  // an oversized message waits for an empty window
  if (st.sent.size() + need > cap) {
    // The oldest sends that must leave the window before `need` more fit.
    return st.sent[st.sent.size() + need - cap - 1] + limit.window;
  }
  st.sent.insert(st.sent.end(), n, now);
  return std::nullopt;
}

void RateLimiter::Penalise(const std::string& key, TimePoint until) {
  std::lock_guard lock(mu_);
  KeyState& st = keys_[key];
  if (until > st.blocked_until) st.blocked_until = until;
}

void RateLimiter::Prune(TimePoint now, std::chrono::milliseconds idle) {
  std::lock_guard lock(mu_);
  for (auto it = keys_.begin(); it != keys_.end();) {
    const KeyState& st = it->second;
    bool idle_key = st.blocked_until <= now && (st.sent.empty() || st.sent.back() + idle <= now);
    it = idle_key ? keys_.erase(it) : std::next(it);
  }
}

}  // namespace kefu::channels
