// Daemon: kefud's composition root. Owns every long-lived service and wires the modules:
//   registry (metrics) -> write connection + migrations -> WriterExecutor -> ReadPool ->
//   WorkerPool -> Router -> TokenAuthenticator -> modules' Init (routes) -> HttpServer.
// Destroys them in reverse order.
//
// Lifecycle (main thread only): Create (no socket yet) -> Start (listen, then modules' Start)
// -> Shutdown (stop accepting and drain in-flight requests up to daemon.drain_timeout, stop
// modules in reverse, stop workers, flush and stop the writer, close the database).
#pragma once

#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "app/config.h"
#include "app/module.h"
#include "app/token_authenticator.h"
#include "app/worker_pool.h"
#include "core/clock.h"
#include "core/result.h"
#include "server/http_server.h"
#include "server/router.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"

namespace kefu::app {

class Daemon {
 public:
  // Opens the database (creating data_dir, quick_check, migrations), builds the services and
  // runs every module's Init. `clock` must outlive the Daemon.
  // Errors: storage errors (kUnavailable for an unreadable database or data_dir, kDataLoss,
  // kFailedPrecondition for a newer schema) or the first module's Init error.
  static Result<std::unique_ptr<Daemon>> Create(Config config,
                                                std::vector<std::unique_ptr<Module>> modules,
                                                const Clock& clock);
  // Shutdown().
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Binds server.listen and serves, then starts the modules' background work. Errors:
  // kUnavailable when the address cannot be bound (the message names server.listen), bad routes
  // (kInvalidArgument), or a module's Start error (then the server is stopped again).
  Status Start();

  // The bound port (after Start).
  uint16_t port() const;

  // Graceful stop; idempotent. Returns after the database is closed.
  void Shutdown();

  prometheus::Registry& metrics() { return *metrics_; }

 private:
  Daemon(Config config, std::vector<std::unique_ptr<Module>> modules, const Clock& clock);

  Config config_;
  const Clock& clock_;
  std::shared_ptr<prometheus::Registry> metrics_;
  std::unique_ptr<storage::WriterExecutor> writer_;
  std::unique_ptr<storage::ReadPool> reads_;
  std::unique_ptr<WorkerPool> workers_;
  server::Router router_;
  ServiceRegistry registry_;
  Lifecycle lifecycle_;
  std::unique_ptr<TokenAuthenticator> authenticator_;
  std::unique_ptr<Services> services_;
  std::vector<std::unique_ptr<Module>> modules_;
  std::unique_ptr<server::HttpServer> server_;
  size_t started_modules_ = 0;
  bool shut_down_ = false;
};

}  // namespace kefu::app
