#include "app/api_tokens.h"

#include <sodium.h>

#include <charconv>

namespace kefu::app {
namespace {

constexpr std::string_view kInsertToken =
    "INSERT INTO api_tokens (name, role, secret_hash, created_at_ms, user_id, expires_at_ms) "
    "VALUES (?, ?, ?, ?, ?, ?)";
constexpr std::string_view kSelectTokens =
    "SELECT id, name, role, created_at_ms, revoked_at_ms, user_id, expires_at_ms FROM api_tokens "
    "ORDER BY id";
constexpr std::string_view kSelectToken =
    "SELECT id, name, role, created_at_ms, revoked_at_ms, user_id, expires_at_ms, secret_hash "
    "FROM api_tokens WHERE id = ?";
constexpr std::string_view kRevokeToken =
    "UPDATE api_tokens SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL";

constexpr std::string_view kTokenPrefix = "kefu_";
constexpr size_t kSecretBytes = 32;
constexpr size_t kMaxNameBytes = 200;

ApiToken RowToToken(const storage::Statement& row) {
  ApiToken t;
  t.id = row.ColumnInt64(0);
  t.name = row.ColumnText(1);
  t.role = row.ColumnText(2);
  t.created_at_ms = row.ColumnInt64(3);
  t.revoked_at_ms = row.ColumnOptionalInt64(4);
  t.user_id = row.ColumnOptionalInt64(5);
  t.expires_at_ms = row.ColumnOptionalInt64(6);
  return t;
}

Status EnsureSodium() {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  return Status::Ok();
}

// Inserts a token row with a fresh secret and returns it with its bearer text.
Result<CreatedToken> InsertToken(storage::Database& db, ApiToken token) {
  if (!IsValidRole(token.role)) {
    return InvalidArgument("role must be agent, supervisor or admin, got \"" + token.role + "\"");
  }
  KEFU_RETURN_IF_ERROR(EnsureSodium());
  std::string secret(kSecretBytes, '\0');
  randombytes_buf(secret.data(), secret.size());

  CreatedToken created;
  created.token = std::move(token);
  KEFU_ASSIGN_OR_RETURN(storage::Statement * insert, db.Prepare(kInsertToken));
  KEFU_RETURN_IF_ERROR(insert->Bind(1, created.token.name));
  KEFU_RETURN_IF_ERROR(insert->Bind(2, created.token.role));
  KEFU_RETURN_IF_ERROR(insert->BindBlob(3, HashTokenSecret(secret)));
  KEFU_RETURN_IF_ERROR(insert->Bind(4, created.token.created_at_ms));
  if (created.token.user_id) KEFU_RETURN_IF_ERROR(insert->Bind(5, *created.token.user_id));
  if (created.token.expires_at_ms) {
    KEFU_RETURN_IF_ERROR(insert->Bind(6, *created.token.expires_at_ms));
  }
  KEFU_RETURN_IF_ERROR(insert->Run());
  created.token.id = db.LastInsertRowId();

  std::string hex(kSecretBytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                 secret.size());
  hex.pop_back();
  sodium_memzero(secret.data(), secret.size());
  created.bearer = std::string(kTokenPrefix) + std::to_string(created.token.id) + "_" + hex;
  return created;
}

}  // namespace

bool IsValidRole(std::string_view role) {
  return role == kRoleAgent || role == kRoleSupervisor || role == kRoleAdmin;
}

Result<ParsedToken> ParseBearerToken(std::string_view bearer) {
  Status bad = Unauthenticated("invalid API token");
  if (!bearer.starts_with(kTokenPrefix)) return bad;
  bearer.remove_prefix(kTokenPrefix.size());
  size_t sep = bearer.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep > 18) return bad;
  ParsedToken parsed;
  auto [end, ec] = std::from_chars(bearer.data(), bearer.data() + sep, parsed.id);
  if (ec != std::errc() || end != bearer.data() + sep || parsed.id <= 0) return bad;
  std::string_view hex = bearer.substr(sep + 1);
  if (hex.size() != kSecretBytes * 2) return bad;
  parsed.secret.resize(kSecretBytes);
  size_t bin_len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(parsed.secret.data()), kSecretBytes,
                     hex.data(), hex.size(), nullptr, &bin_len, nullptr) != 0 ||
      bin_len != kSecretBytes) {
    return bad;
  }
  return parsed;
}

std::string HashTokenSecret(std::string_view secret) {
  std::string hash(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr,
                     0);
  return hash;
}

bool HashesEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<CreatedToken> CreateApiToken(storage::Database& db, const Clock& clock,
                                    std::string_view role, std::string_view name) {
  if (name.size() > kMaxNameBytes) {
    return InvalidArgument("name must be at most 200 bytes");
  }
  ApiToken token;
  token.name = std::string(name);
  token.role = std::string(role);
  token.created_at_ms = clock.NowUnixMs();
  return InsertToken(db, std::move(token));
}

Result<CreatedToken> CreateSessionToken(storage::Database& db, const Clock& clock, int64_t user_id,
                                        std::string_view username, std::string_view role,
                                        int64_t ttl_ms) {
  ApiToken token;
  token.name = std::string(username);
  token.role = std::string(role);
  token.created_at_ms = clock.NowUnixMs();
  token.user_id = user_id;
  token.expires_at_ms = token.created_at_ms + ttl_ms;
  return InsertToken(db, std::move(token));
}

Result<std::vector<ApiToken>> ListApiTokens(storage::Database& db) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * select, db.Prepare(kSelectTokens));
  std::vector<ApiToken> tokens;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) break;
    tokens.push_back(RowToToken(*select));
  }
  return tokens;
}

Status RevokeApiToken(storage::Database& db, const Clock& clock, int64_t id) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * revoke, db.Prepare(kRevokeToken));
  KEFU_RETURN_IF_ERROR(revoke->BindAll(clock.NowUnixMs(), id));
  KEFU_RETURN_IF_ERROR(revoke->Run());
  if (db.Changes() == 1) return Status::Ok();
  KEFU_ASSIGN_OR_RETURN(std::optional<StoredToken> existing, FindApiToken(db, id));
  if (!existing) return NotFound("token " + std::to_string(id) + " not found");
  return FailedPrecondition("token " + std::to_string(id) + " is already revoked");
}

Result<std::optional<StoredToken>> FindApiToken(storage::Database& db, int64_t id) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * select, db.Prepare(kSelectToken));
  KEFU_RETURN_IF_ERROR(select->Bind(1, id));
  KEFU_ASSIGN_OR_RETURN(bool row, select->Step());
  if (!row) return std::optional<StoredToken>();
  StoredToken stored;
  stored.token = RowToToken(*select);
  stored.secret_hash = select->ColumnBlob(7);
  return std::optional<StoredToken>(std::move(stored));
}

Result<ApiToken> VerifyApiToken(storage::Database& db, const Clock& clock,
                                std::string_view bearer) {
  KEFU_ASSIGN_OR_RETURN(ParsedToken parsed, ParseBearerToken(bearer));
  KEFU_ASSIGN_OR_RETURN(std::optional<StoredToken> stored, FindApiToken(db, parsed.id));
  std::string hash = HashTokenSecret(parsed.secret);
  if (!stored || !TokenUsable(stored->token, clock.NowUnixMs()) ||
      !HashesEqual(hash, stored->secret_hash)) {
    return Unauthenticated("invalid API token");
  }
  return std::move(stored->token);
}

bool TokenUsable(const ApiToken& t, int64_t now_ms) {
  return !t.revoked_at_ms && (!t.expires_at_ms || *t.expires_at_ms > now_ms);
}

std::string TokenSubject(const ApiToken& t) {
  if (t.user_id) return "user:" + t.name;
  return "token:" + std::to_string(t.id) + ":" + t.name;
}

nlohmann::json TokenJson(const ApiToken& t) {
  nlohmann::json j = {{"id", t.id},
                      {"name", t.name},
                      {"kind", t.user_id ? "session" : "api"},
                      {"role", t.role},
                      {"created_at_ms", t.created_at_ms},
                      {"revoked", t.revoked_at_ms.has_value()}};
  if (t.revoked_at_ms) j["revoked_at_ms"] = *t.revoked_at_ms;
  if (t.expires_at_ms) j["expires_at_ms"] = *t.expires_at_ms;
  return j;
}

}  // namespace kefu::app
