// TokenAuthenticator: the server's Authenticator over the api_tokens table.
//
// A verified token is cached (id -> stored hash and principal) for AuthConfig::token_cache_ttl;
// each request still hashes the presented secret and compares it in constant time with the
// cached hash. A cache miss reads the row from the ReadPool (one indexed lookup), so a token
// created by kefuctl while kefud runs works at once; a revoked one stops working within the TTL.
// Unknown tokens are not cached (no negative cache: creation must take effect immediately).
//
// Metrics: kefu_app_auth_total{result="ok|cache_hit|rejected|error"}.
// Thread-safe: called concurrently from I/O threads.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "server/authenticator.h"
#include "storage/read_pool.h"

namespace kefu::app {

class TokenAuthenticator final : public server::Authenticator {
 public:
  // `reads`, `clock` and `registry` must outlive this object.
  TokenAuthenticator(storage::ReadPool& reads, const Clock& clock, std::chrono::milliseconds ttl,
                     prometheus::Registry& registry);

  // Principal{subject = "token:<id>:<name>", role}; kUnauthenticated "invalid API token" for a
  // malformed, unknown, revoked or wrong token; the storage error (kUnavailable, ...) otherwise.
  Result<server::Principal> Authenticate(std::string_view bearer_token) override;

  // Drops token `id` from the cache, so a logout or revocation made through this daemon takes
  // effect at once instead of after the TTL.
  void Forget(int64_t id);

 private:
  struct Entry {
    std::string secret_hash;
    server::Principal principal;
    int64_t expires_at_ms;
  };
  static constexpr size_t kMaxEntries = 10'000;

  storage::ReadPool& reads_;
  const Clock& clock_;
  std::chrono::milliseconds ttl_;
  prometheus::Counter& ok_;
  prometheus::Counter& cache_hit_;
  prometheus::Counter& rejected_;
  prometheus::Counter& error_;

  std::mutex mu_;
  std::unordered_map<int64_t, Entry> cache_;  // guarded by mu_
};

}  // namespace kefu::app
