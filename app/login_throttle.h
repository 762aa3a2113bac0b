// LoginThrottle: slows password guessing against the console login. After `max_failures` failed
// logins for one username within `window`, further attempts for that username are refused (the
// route answers 429) until `window` has passed since the first of those failures. A success clears
// the count. In memory: a restart forgets it, which an attacker cannot trigger remotely.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace kefu::app {

class LoginThrottle {
 public:
  // `clock` must outlive this object.
  explicit LoginThrottle(const Clock& clock, int max_failures = 5,
                         std::chrono::milliseconds window = std::chrono::minutes(15));

  // False while `username` is locked out.
  bool Allowed(std::string_view username);
  void RecordFailure(std::string_view username);
  void RecordSuccess(std::string_view username);

 private:
  struct Failures {
    int count = 0;
    int64_t first_at_ms = 0;
  };
  // Bounds memory under a flood of made-up usernames: past this many entries the table restarts.
  static constexpr size_t kMaxEntries = 100'000;

  const Clock& clock_;
  const int max_failures_;
  const int64_t window_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, Failures> failures_;  // guarded by mu_
};

}  // namespace kefu::app
