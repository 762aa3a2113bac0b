// Console users: agents, supervisors and admins who log in to the web console with a password.
//
// Passwords are hashed with libsodium's crypto_pwhash_str (Argon2id, "interactive" limits: about
// 64 MiB and a few hundred ms per hash). Hashing is slow on purpose, so it is split from the
// database work: HashPassword / VerifyPassword run on a worker thread, never inside a writer job.
// A login creates a session token (app/api_tokens.h, CreateSessionToken); disabling a user revokes
// their sessions.
//
// The database functions run on the connection they are given: writes inside a WriterExecutor job
// (or any write transaction), reads on a ReadPool connection.
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

struct User {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  std::string role;
  int64_t created_at_ms = 0;
  std::optional<int64_t> disabled_at_ms;
};

// id, username, display_name, role, created_at_ms, disabled; never the password hash.
nlohmann::json UserJson(const User& u);

// kInvalidArgument naming the field: username 1-64 of [A-Za-z0-9._-]; display_name at most 100
// bytes; role agent|supervisor|admin; password 8-1024 bytes.
Status ValidateUsername(std::string_view username);
Status ValidatePassword(std::string_view password);

// Argon2id hash string of `password` (slow). kInvalidArgument for a bad password, kInternal if
// libsodium fails (out of memory).
Result<std::string> HashPassword(std::string_view password);
// True if `password` matches `hash` (slow; constant time in the password).
bool VerifyPassword(std::string_view hash, std::string_view password);

// Inserts a user with an already hashed password. kAlreadyExists if the username is taken;
// kInvalidArgument for a bad username, display name or role.
Result<User> InsertUser(storage::Database& db, const Clock& clock, std::string_view username,
                        std::string_view display_name, std::string_view role,
                        std::string_view password_hash);

// Replaces the password hash. kNotFound for an unknown username.
Status SetPasswordHash(storage::Database& db, std::string_view username,
                       std::string_view password_hash);

// Disables the user and revokes their open sessions. kNotFound for an unknown username,
// kFailedPrecondition if already disabled.
Status DisableUser(storage::Database& db, const Clock& clock, std::string_view username);

struct StoredUser {
  User user;
  std::string password_hash;
};
// The user (disabled ones too) with the hash, or nullopt.
Result<std::optional<StoredUser>> FindUser(storage::Database& db, std::string_view username);

// All users, by username.
Result<std::vector<User>> ListUsers(storage::Database& db);

}  // namespace kefu::app
