// Access-token caching with single-flight refresh (spec §2.5, §4.3, §7.33).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace kefu::channels {

struct FetchedToken {
  std::string token;
  std::chrono::seconds expires_in{7200};
};

// Caches one platform access token. Get() returns the cached token until `expires_in - margin`;
// otherwise one caller fetches (the others wait on the mutex and reuse the result).
// Invalidate(token) drops it if it is still the cached one (40014/42001: refresh exactly once).
// A fetch failing with kUnauthenticated (40001: bad secret) is NOT retried: Get() fails fast with
// that Status for `bad_secret_cooldown` without calling the platform (repeated wrong-secret calls
// get the IP banned). Thread-safe.
class TokenCache {
 public:
  using Fetch = std::function<Result<FetchedToken>()>;
  TokenCache(const Clock& clock, Fetch fetch,
             std::chrono::seconds margin = std::chrono::seconds(300),
             std::chrono::seconds bad_secret_cooldown = std::chrono::seconds(3600));

  Result<std::string> Get();
  void Invalidate(const std::string& token);
  // Number of fetch calls made (for tests and metrics).
  int fetch_count() const;

 private:
  const Clock& clock_;
  Fetch fetch_;
  std::chrono::seconds margin_;
  std::chrono::seconds bad_secret_cooldown_;
  mutable std::mutex mu_;
  std::string token_;             // guarded by mu_
  TimePoint expires_at_{};        // guarded by mu_
  Status bad_secret_;             // guarded by mu_
  TimePoint bad_secret_until_{};  // guarded by mu_
  int fetch_count_ = 0;           // guarded by mu_
};

}  // namespace kefu::channels
