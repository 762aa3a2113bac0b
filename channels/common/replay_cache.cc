#include "channels/common/replay_cache.h"

#include <algorithm>

namespace kefu::channels {

bool IsFresh(std::string_view ts, int64_t unit_ms, std::chrono::seconds skew, TimePoint now) {
  if (ts.empty() || ts.size() > 16) return false;
  if (!std::all_of(ts.begin(), ts.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  if (skew.count() == 0) return true;
  int64_t t_ms = std::stoll(std::string(ts)) * unit_ms;
  int64_t now_ms = ToUnixMs(now);
  int64_t diff = now_ms > t_ms ? now_ms - t_ms : t_ms - now_ms;
  return diff <= skew.count() * 1000;
}

namespace {

std::string TripleKey(std::string_view ts, std::string_view nonce, std::string_view sig) {
  std::string key;
  key.reserve(ts.size() + nonce.size() + sig.size() + 2);
  key.append(ts).append("\n").append(nonce).append("\n").append(sig);
  return key;
}

}  // namespace

void ReplayCache::Forget(std::string_view ts, std::string_view nonce, std::string_view sig) {
  std::lock_guard lock(mu_);
  set_.erase(TripleKey(ts, nonce, sig));  // the stale deque entry is skipped when it expires
}

bool ReplayCache::Seen(std::string_view ts, std::string_view nonce, std::string_view sig,
                       TimePoint now) {
  std::string key = TripleKey(ts, nonce, sig);
  std::lock_guard lock(mu_);
  while (!order_.empty() &&
         (order_.front().first + window_ <= now || order_.size() > max_entries_)) {
    set_.erase(order_.front().second);
    order_.pop_front();
  }
  if (!set_.insert(key).second) return true;
  order_.emplace_back(now, std::move(key));
  return false;
}

}  // namespace kefu::channels
