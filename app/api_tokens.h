// API bearer tokens: creation, listing, revocation and lookup, stored hashed in table api_tokens
// (owned by module "app", see AppMigrations()).
//
// A token reads "kefu_<id>_<64 hex>": the id selects the row, the hex is 32 random bytes whose
// BLAKE2b hash (libsodium crypto_generichash) is stored. A random 256-bit secret needs no slow
// password hash; verification compares hashes in constant time (sodium_memcmp). The plain token
// is shown once, at creation, and never stored or logged.
//
// Every function runs on the connection it is given: writes inside a WriterExecutor job (or any
// write transaction), reads on a ReadPool connection. Not thread-safe per connection.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "storage/database.h"

namespace kefu::app {

// Roles, from least to most privileged.
inline constexpr std::string_view kRoleAgent = "agent";
inline constexpr std::string_view kRoleSupervisor = "supervisor";
inline constexpr std::string_view kRoleAdmin = "admin";
// True for "agent", "supervisor", "admin".
bool IsValidRole(std::string_view role);

struct ApiToken {
  int64_t id = 0;
  std::string name;
  std::string role;
  int64_t created_at_ms = 0;
  std::optional<int64_t> revoked_at_ms;
  // Set for console login sessions (the user's id; `name` is the username); nullopt for API tokens.
  std::optional<int64_t> user_id;
  std::optional<int64_t> expires_at_ms;  // sessions end at this instant
};

// Not revoked and not expired at `now_ms`.
bool TokenUsable(const ApiToken& t, int64_t now_ms);

// The principal a usable token stands for: "user:<username>" for a session, "token:<id>:<name>"
// for an API token.
std::string TokenSubject(const ApiToken& t);

// The JSON view of a token for the REST API and kefuctl: id, name, kind (api|session), role,
// created_at_ms, revoked (and revoked_at_ms, expires_at_ms); never the secret or its hash.
nlohmann::json TokenJson(const ApiToken& t);

struct CreatedToken {
  ApiToken token;
  std::string bearer;  // the plain token; shown once
};

// The parts of a bearer token. kUnauthenticated if it is not of the form kefu_<id>_<64 hex>.
struct ParsedToken {
  int64_t id = 0;
  std::string secret;  // 32 raw bytes
};
Result<ParsedToken> ParseBearerToken(std::string_view bearer);

// BLAKE2b-256 of the raw secret.
std::string HashTokenSecret(std::string_view secret);

// Creates a token with a fresh random secret. Errors: kInvalidArgument for an unknown role or a
// name longer than 200 bytes; storage errors.
Result<CreatedToken> CreateApiToken(storage::Database& db, const Clock& clock,
                                    std::string_view role, std::string_view name);

// A console session for user `user_id` (`username`, `role`) ending `ttl_ms` from now: a token of
// the same form, so the server authenticates it like any bearer token. Errors as CreateApiToken.
Result<CreatedToken> CreateSessionToken(storage::Database& db, const Clock& clock, int64_t user_id,
                                        std::string_view username, std::string_view role,
                                        int64_t ttl_ms);

// All tokens (revoked ones too), by id.
Result<std::vector<ApiToken>> ListApiTokens(storage::Database& db);

// Marks the token revoked. kNotFound for an unknown id; kFailedPrecondition if already revoked.
Status RevokeApiToken(storage::Database& db, const Clock& clock, int64_t id);

// Verifies `bearer` against the stored hash: the token row if it exists, is usable at
// clock.NowUnixMs() and the secret matches; kUnauthenticated otherwise (one message for all cases,
// so callers cannot tell which part was wrong).
Result<ApiToken> VerifyApiToken(storage::Database& db, const Clock& clock, std::string_view bearer);

// The stored hash and row of token `id`, or nullopt. For caches that verify themselves.
struct StoredToken {
  ApiToken token;
  std::string secret_hash;
};
Result<std::optional<StoredToken>> FindApiToken(storage::Database& db, int64_t id);

// Constant-time equality of two hashes (false if the sizes differ).
bool HashesEqual(std::string_view a, std::string_view b);

}  // namespace kefu::app
