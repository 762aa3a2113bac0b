#include "app/login_throttle.h"

namespace kefu::app {

LoginThrottle::LoginThrottle(const Clock& clock, int max_failures, std::chrono::milliseconds window)
    : clock_(clock), max_failures_(max_failures), window_ms_(window.count()) {}

bool LoginThrottle::Allowed(std::string_view username) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(std::string(username));
  if (it == failures_.end()) return true;
  if (clock_.NowUnixMs() - it->second.first_at_ms >= window_ms_) {
    failures_.erase(it);
    return true;
  }
  return it->second.count < max_failures_;
}

void LoginThrottle::RecordFailure(std::string_view username) {
  const int64_t now = clock_.NowUnixMs();
  std::lock_guard lock(mu_);
  if (failures_.size() >= kMaxEntries) failures_.clear();
  Failures& f = failures_[std::string(username)];
  if (f.count == 0 || now - f.first_at_ms >= window_ms_) f = Failures{0, now};
  ++f.count;
}

void LoginThrottle::RecordSuccess(std::string_view username) {
  std::lock_guard lock(mu_);
  failures_.erase(std::string(username));
}

}  // namespace kefu::app
