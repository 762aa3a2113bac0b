#include "app/users.h"

#include <sodium.h>

#include <algorithm>

#include "app/api_tokens.h"

namespace kefu::app {
namespace {

constexpr std::string_view kInsertUser =
    "INSERT INTO users (username, display_name, role, password_hash, created_at_ms) "
    "VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kSelectUser =
    "SELECT id, username, display_name, role, created_at_ms, disabled_at_ms, password_hash "
    "FROM users WHERE username = ?";
constexpr std::string_view kSelectUsers =
    "SELECT id, username, display_name, role, created_at_ms, disabled_at_ms FROM users "
    "ORDER BY username";
constexpr std::string_view kUpdatePassword =
    "UPDATE users SET password_hash = ? WHERE username = ?";
constexpr std::string_view kDisableUser =
    "UPDATE users SET disabled_at_ms = ? WHERE username = ? AND disabled_at_ms IS NULL";
constexpr std::string_view kRevokeSessions =
    "UPDATE api_tokens SET revoked_at_ms = ? WHERE user_id = ? AND revoked_at_ms IS NULL";

constexpr size_t kMaxUsernameBytes = 64;
constexpr size_t kMaxDisplayNameBytes = 100;
constexpr size_t kMinPasswordBytes = 8;
constexpr size_t kMaxPasswordBytes = 1024;

User RowToUser(const storage::Statement& row) {
  User u;
  u.id = row.ColumnInt64(0);
  u.username = row.ColumnText(1);
  u.display_name = row.ColumnText(2);
  u.role = row.ColumnText(3);
  u.created_at_ms = row.ColumnInt64(4);
  u.disabled_at_ms = row.ColumnOptionalInt64(5);
  return u;
}

bool UsernameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

nlohmann::json UserJson(const User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"role", u.role},
          {"created_at_ms", u.created_at_ms},
          {"disabled", u.disabled_at_ms.has_value()}};
}

Status ValidateUsername(std::string_view username) {
  if (username.empty() || username.size() > kMaxUsernameBytes ||
      !std::all_of(username.begin(), username.end(), UsernameChar)) {
    return InvalidArgument("username: must be 1-64 characters of A-Z a-z 0-9 . _ -");
  }
  return Status::Ok();
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
    return InvalidArgument("password: must be 8-1024 bytes");
  }
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  KEFU_RETURN_IF_ERROR(ValidatePassword(password));
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  std::string hash(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str(hash.data(), password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Internal("password hashing failed (out of memory)");
  }
  hash.resize(std::char_traits<char>::length(hash.c_str()));
  return hash;
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (sodium_init() < 0) return false;
  std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

Result<User> InsertUser(storage::Database& db, const Clock& clock, std::string_view username,
                        std::string_view display_name, std::string_view role,
                        std::string_view password_hash) {
  KEFU_RETURN_IF_ERROR(ValidateUsername(username));
  if (display_name.size() > kMaxDisplayNameBytes) {
    return InvalidArgument("display_name: must be at most 100 bytes");
  }
  if (!IsValidRole(role)) {
    return InvalidArgument("role: must be agent, supervisor or admin, got \"" + std::string(role) +
                           "\"");
  }
  KEFU_ASSIGN_OR_RETURN(std::optional<StoredUser> existing, FindUser(db, username));
  if (existing) return AlreadyExists("username: \"" + std::string(username) + "\" already exists");
  User u;
  u.username = std::string(username);
  u.display_name = display_name.empty() ? u.username : std::string(display_name);
  u.role = std::string(role);
  u.created_at_ms = clock.NowUnixMs();
  KEFU_ASSIGN_OR_RETURN(storage::Statement * insert, db.Prepare(kInsertUser));
  KEFU_RETURN_IF_ERROR(
      insert->BindAll(u.username, u.display_name, u.role, password_hash, u.created_at_ms));
  KEFU_RETURN_IF_ERROR(insert->Run());
  u.id = db.LastInsertRowId();
  return u;
}

Status SetPasswordHash(storage::Database& db, std::string_view username,
                       std::string_view password_hash) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * update, db.Prepare(kUpdatePassword));
  KEFU_RETURN_IF_ERROR(update->BindAll(password_hash, username));
  KEFU_RETURN_IF_ERROR(update->Run());
  if (db.Changes() == 0) return NotFound("user \"" + std::string(username) + "\" not found");
  return Status::Ok();
}

Status DisableUser(storage::Database& db, const Clock& clock, std::string_view username) {
  KEFU_ASSIGN_OR_RETURN(std::optional<StoredUser> existing, FindUser(db, username));
  if (!existing) return NotFound("user \"" + std::string(username) + "\" not found");
  if (existing->user.disabled_at_ms) {
    return FailedPrecondition("user \"" + std::string(username) + "\" is already disabled");
  }
  const int64_t now = clock.NowUnixMs();
  KEFU_ASSIGN_OR_RETURN(storage::Statement * disable, db.Prepare(kDisableUser));
  KEFU_RETURN_IF_ERROR(disable->BindAll(now, username));
  KEFU_RETURN_IF_ERROR(disable->Run());
  KEFU_ASSIGN_OR_RETURN(storage::Statement * revoke, db.Prepare(kRevokeSessions));
  KEFU_RETURN_IF_ERROR(revoke->BindAll(now, existing->user.id));
  return revoke->Run();
}

Result<std::optional<StoredUser>> FindUser(storage::Database& db, std::string_view username) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * select, db.Prepare(kSelectUser));
  KEFU_RETURN_IF_ERROR(select->Bind(1, username));
  KEFU_ASSIGN_OR_RETURN(bool row, select->Step());
  if (!row) return std::optional<StoredUser>();
  StoredUser stored{RowToUser(*select), select->ColumnText(6)};
  return std::optional<StoredUser>(std::move(stored));
}

Result<std::vector<User>> ListUsers(storage::Database& db) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * select, db.Prepare(kSelectUsers));
  std::vector<User> users;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) break;
    users.push_back(RowToUser(*select));
  }
  return users;
}

}  // namespace kefu::app
