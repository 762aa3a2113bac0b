#include "app/token_authenticator.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "app/api_tokens.h"

namespace kefu::app {

TokenAuthenticator::TokenAuthenticator(storage::ReadPool& reads, const Clock& clock,
                                       std::chrono::milliseconds ttl,
                                       prometheus::Registry& registry)
    : reads_(reads),
      clock_(clock),
      ttl_(ttl),
      ok_(prometheus::BuildCounter()
              .Name("kefu_app_auth_total")
              .Help("API token checks by result")
              .Register(registry)
              .Add({{"result", "ok"}})),
      cache_hit_(prometheus::BuildCounter()
                     .Name("kefu_app_auth_total")
                     .Help("API token checks by result")
                     .Register(registry)
                     .Add({{"result", "cache_hit"}})),
      rejected_(prometheus::BuildCounter()
                    .Name("kefu_app_auth_total")
                    .Help("API token checks by result")
                    .Register(registry)
                    .Add({{"result", "rejected"}})),
      error_(prometheus::BuildCounter()
                 .Name("kefu_app_auth_total")
                 .Help("API token checks by result")
                 .Register(registry)
                 .Add({{"result", "error"}})) {}

Result<server::Principal> TokenAuthenticator::Authenticate(std::string_view bearer_token) {
  auto parsed = ParseBearerToken(bearer_token);
  if (!parsed.ok()) {
    rejected_.Increment();
    return parsed.status();
  }
  std::string hash = HashTokenSecret(parsed->secret);
  int64_t now = clock_.NowUnixMs();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(parsed->id);
    if (it != cache_.end() && it->second.expires_at_ms > now) {
      if (HashesEqual(hash, it->second.secret_hash)) {
        cache_hit_.Increment();
        return it->second.principal;
      }
      rejected_.Increment();
      return Unauthenticated("invalid API token");
    }
  }

  auto stored = reads_.Read([&](storage::Database& db) { return FindApiToken(db, parsed->id); });
  if (!stored.ok()) {
    error_.Increment();
    return stored.status();
  }
  if (!stored->has_value() || !TokenUsable((*stored)->token, now) ||
      !HashesEqual(hash, (*stored)->secret_hash)) {
    rejected_.Increment();
    return Unauthenticated("invalid API token");
  }
  const ApiToken& token = (*stored)->token;
  server::Principal principal{.subject = TokenSubject(token), .role = token.role};
  if (ttl_.count() > 0) {
    // A session is never served from the cache past its own end.
    const int64_t cached_until =
        std::min(now + ttl_.count(), token.expires_at_ms.value_or(INT64_MAX));
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxEntries) cache_.clear();
    cache_[token.id] = Entry{(*stored)->secret_hash, principal, cached_until};
  }
  ok_.Increment();
  return principal;
}

void TokenAuthenticator::Forget(int64_t id) {
  std::lock_guard lock(mu_);
  cache_.erase(id);
}

}  // namespace kefu::app
