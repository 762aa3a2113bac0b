#include "app/app_module.h"

namespace kefu::app {
namespace {

constexpr std::string_view kCreateTokens = R"sql(
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
  secret_hash BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER
);
CREATE TABLE app_heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  beat_at_ms INTEGER NOT NULL
);
)sql";

// Console users; api_tokens rows with a user_id are their login sessions.
constexpr std::string_view kCreateUsers = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
  password_hash TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  disabled_at_ms INTEGER
);
ALTER TABLE api_tokens ADD COLUMN user_id INTEGER REFERENCES users (id);
ALTER TABLE api_tokens ADD COLUMN expires_at_ms INTEGER;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id) WHERE user_id IS NOT NULL;
)sql";

class AppModule final : public Module {
 public:
  std::string_view name() const override { return "app"; }
  std::vector<storage::Migration> Migrations() const override { return AppMigrations(); }
  Status Init(Services& services) override {
    RegisterAppApi(services);
    RegisterConsoleApi(services);
    return Status::Ok();
  }
};

}  // namespace

std::vector<storage::Migration> AppMigrations() {
  return {{.version = 1, .name = "api tokens and heartbeat", .sql = std::string(kCreateTokens)},
          {.version = 2, .name = "console users and sessions", .sql = std::string(kCreateUsers)}};
}

std::unique_ptr<Module> MakeAppModule() {
  return std::make_unique<AppModule>();
}

}  // namespace kefu::app
