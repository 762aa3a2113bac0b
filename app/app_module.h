// The "app" module: the daemon's own tables (api_tokens, app_heartbeat) and routes
// (/healthz, /readyz, /metrics, /api/v1/whoami, /api/v1/echo, /api/v1/tokens).
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

std::unique_ptr<Module> MakeAppModule();

}  // namespace kefu::app
