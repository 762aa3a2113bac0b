// The "app" module: the daemon's own tables (api_tokens, app_heartbeat, users) and routes
// (/healthz, /readyz, /metrics, /api/v1/whoami, /api/v1/echo, /api/v1/tokens, the console's login
// session and its static files).
#pragma once

#include <memory>
#include <vector>

#include "app/module.h"
#include "storage/migrations.h"

namespace kefu::app {

// Migrations of module "app".
std::vector<storage::Migration> AppMigrations();

// Registers the app's routes (app/app_api.cc).
void RegisterAppApi(Services& services);

// Registers the web console: /api/v1/session (login, logout), /api/v1/users and the static files
// under /console/ (app/console_api.cc).
void RegisterConsoleApi(Services& services);

std::unique_ptr<Module> MakeAppModule();

}  // namespace kefu::app
