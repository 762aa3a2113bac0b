// Signature-level replay protection (spec §6.2): freshness window plus a cache of the
// (timestamp, nonce, signature) triples seen inside the window.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/clock.h"

namespace kefu::channels {

// True when |now - ts| <= skew. `ts` is the raw decimal timestamp string in `unit_ms`
// milliseconds per unit (1000 for WeCom seconds, 1 for DingTalk milliseconds). A zero skew
// disables the check (always fresh). Non-numeric or empty timestamps are never fresh.
bool IsFresh(std::string_view ts, int64_t unit_ms, std::chrono::seconds skew, TimePoint now);

// Remembers triples for `window`; Seen() returns true for a repeat (a platform retry reusing
// the same triple: answer as a duplicate, do not process). Thread-safe.
class ReplayCache {
 public:
  explicit ReplayCache(std::chrono::milliseconds window, size_t max_entries = 200'000)
      : window_(window), max_entries_(max_entries) {}
  // Inserts the triple; returns true if it was already present inside the window.
  bool Seen(std::string_view ts, std::string_view nonce, std::string_view sig, TimePoint now);
  // Removes a triple again (its delivery failed with 503, so the platform's retry must be
  // processed, not answered as a duplicate).
  void Forget(std::string_view ts, std::string_view nonce, std::string_view sig);

 private:
  std::chrono::milliseconds window_;
  size_t max_entries_;
  std::mutex mu_;
  std::unordered_set<std::string> set_;                  // guarded by mu_
  std::deque<std::pair<TimePoint, std::string>> order_;  // guarded by mu_, insertion order
};

}  // namespace kefu::channels
