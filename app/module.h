// How a module plugs into kefud (and kefuctl).
//
// The Daemon (the composition root, app/daemon.h) owns the long-lived shared services and lends
// them to each Module through Services. A module contributes, in this order:
//   1. ConfigureDatabase: connection initializers (e.g. an FTS5 tokenizer) before any connection
//      opens;
//   2. Migrations: its numbered migrations, applied by kefud and kefuctl when they open the
//      database (recorded per module name in schema_migrations);
//   3. Init: builds its stores and services from Services, registers routes on the router
//      (REST handlers live in app/<module>_api.cc) and may Provide() services other modules
//      Get() later; runs before the server listens;
//   4. Start / Stop: background work (dispatchers, schedulers). Start runs after the server
//      listens; Stop runs in reverse module order after the server drained and before the writer
//      flushes, so Stop may still post writes.
// The module list is app/modules.cc: one line per module.
//
// Threads: every method is called on the main thread. Route handlers run on I/O threads and must
// not block; blocking work goes to Services::workers or Services::writer.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "app/config.h"
#include "app/worker_pool.h"
#include "core/clock.h"
#include "core/status.h"
#include "server/router.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"

namespace kefu::app {

// A typed lookup of services modules provide to each other ("bot" gets the FAQ matcher the
// "knowledge" module provided). Not owning; filled during Init, read-only afterwards.
class ServiceRegistry {
 public:
  // Makes `service` available as T. A second Provide for the same T replaces the first.
  template <typename T>
  void Provide(T& service) {
    services_[std::type_index(typeid(T))] = &service;
  }
  // The T provided earlier, or nullptr (e.g. the providing module is not in the build).
  template <typename T>
  T* Get() const {
    auto it = services_.find(std::type_index(typeid(T)));
    return it == services_.end() ? nullptr : static_cast<T*>(it->second);
  }

 private:
  std::unordered_map<std::type_index, void*> services_;
};

// Whether the daemon is serving (false before Start and once shutdown began); /readyz uses it.
class Lifecycle {
 public:
  bool serving() const { return serving_.load(std::memory_order_acquire); }
  void set_serving(bool serving) { serving_.store(serving, std::memory_order_release); }

 private:
  std::atomic<bool> serving_{false};
};

// The shared services, owned by the Daemon; valid from Init until after Stop.
struct Services {
  const Config& config;
  const Clock& clock;
  prometheus::Registry& metrics;
  storage::WriterExecutor& writer;  // all writes (group commit)
  storage::ReadPool& reads;         // blocking reads: call only from `workers` threads
  WorkerPool& workers;              // blocking work off the I/O threads
  server::Router& router;
  ServiceRegistry& registry;
  const Lifecycle& lifecycle;
};

class Module {
 public:
  virtual ~Module() = default;
  // Lower-case module name: the key of its migrations and its config section by convention.
  virtual std::string_view name() const = 0;
  virtual void ConfigureDatabase(storage::DatabaseOptions& /*options*/) const {}
  virtual std::vector<storage::Migration> Migrations() const { return {}; }
  virtual Status Init(Services& /*services*/) { return Status::Ok(); }
  virtual Status Start() { return Status::Ok(); }
  virtual void Stop() {}
};

// The modules of this build, in dependency order (app/modules.cc), built from their config
// sections. kefud and kefuctl both use it, so kefuctl migrates and opens the database exactly like
// kefud.
std::vector<std::unique_ptr<Module>> MakeModules(const Config& config);

}  // namespace kefu::app
