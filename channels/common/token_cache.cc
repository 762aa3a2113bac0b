#include "channels/common/token_cache.h"

#include <spdlog/spdlog.h>

namespace kefu::channels {

TokenCache::TokenCache(const Clock& clock, Fetch fetch, std::chrono::seconds margin,
                       std::chrono::seconds bad_secret_cooldown)
    : clock_(clock),
      fetch_(std::move(fetch)),
      margin_(margin),
      bad_secret_cooldown_(bad_secret_cooldown) {}

Result<std::string> TokenCache::Get() {
  std::lock_guard lock(mu_);
  TimePoint now = clock_.Now();
  if (!token_.empty() && now < expires_at_) return token_;
  if (!bad_secret_.ok() && now < bad_secret_until_) return bad_secret_;
  ++fetch_count_;
  Result<FetchedToken> got = fetch_();
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kUnauthenticated) {
      bad_secret_ = got.status();
      bad_secret_until_ = now + bad_secret_cooldown_;
      spdlog::error("access token refused (bad secret), not retrying for {}s: {}",
                    bad_secret_cooldown_.count(), got.status().message());
    }
    return got.status();
  }
  bad_secret_ = Status::Ok();
  token_ = got->token;
  auto life = got->expires_in > margin_ ? got->expires_in - margin_ : got->expires_in / 2;
  expires_at_ = now + std::chrono::duration_cast<std::chrono::milliseconds>(life);
  return token_;
}

void TokenCache::Invalidate(const std::string& token) {
  std::lock_guard lock(mu_);
  if (token_ == token) token_.clear();
}

int TokenCache::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetch_count_;
}

}  // namespace kefu::channels
