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

class AppModule final : public Module {
 public:
  std::string_view name() const override { return "app"; }
  std::vector<storage::Migration> Migrations() const override { return AppMigrations(); }
  Status Init(Services& services) override {
    RegisterAppApi(services);
    return Status::Ok();
  }
};

}  // namespace

std::vector<storage::Migration> AppMigrations() {
  return {{.version = 1, .name = "api tokens and heartbeat", .sql = std::string(kCreateTokens)}};
}

std::unique_ptr<Module> MakeAppModule() {
  return std::make_unique<AppModule>();
}

}  // namespace kefu::app
