#include "app/daemon.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "app/database_setup.h"

namespace kefu::app {

Daemon::Daemon(Config config, std::vector<std::unique_ptr<Module>> modules, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      metrics_(std::make_shared<prometheus::Registry>()),
      modules_(std::move(modules)) {}

Result<std::unique_ptr<Daemon>> Daemon::Create(Config config,
                                               std::vector<std::unique_ptr<Module>> modules,
                                               const Clock& clock) {
  std::unique_ptr<Daemon> d(new Daemon(std::move(config), std::move(modules), clock));
  const StorageConfig& sc = d->config_.storage;

  storage::DatabaseOptions options = MakeDatabaseOptions(sc, d->modules_);
  KEFU_ASSIGN_OR_RETURN(std::unique_ptr<storage::Database> db,
                        OpenAndMigrate(sc, options, d->modules_));
  d->writer_ = std::make_unique<storage::WriterExecutor>(std::move(db), *d->metrics_);
  options.quick_check_on_open = false;
  KEFU_ASSIGN_OR_RETURN(d->reads_, storage::ReadPool::Open(options, sc.read_connections));
  d->workers_ = std::make_unique<WorkerPool>(sc.worker_threads);
  d->authenticator_ = std::make_unique<TokenAuthenticator>(
      *d->reads_, clock, d->config_.auth.token_cache_ttl, *d->metrics_);
  d->registry_.Provide<TokenAuthenticator>(*d->authenticator_);
  d->services_ = std::make_unique<Services>(Services{.config = d->config_,
                                                     .clock = clock,
                                                     .metrics = *d->metrics_,
                                                     .writer = *d->writer_,
                                                     .reads = *d->reads_,
                                                     .workers = *d->workers_,
                                                     .router = d->router_,
                                                     .registry = d->registry_,
                                                     .lifecycle = d->lifecycle_});
  for (const auto& module : d->modules_) {
    Status s = module->Init(*d->services_);
    if (!s.ok()) {
      return Status(s.code(), "module " + std::string(module->name()) + ": " + s.message());
    }
  }
  d->server_ = std::make_unique<server::HttpServer>(d->config_.server, d->router_, *d->metrics_,
                                                    d->authenticator_.get());
  spdlog::info("database ready path={} modules={}", options.path, d->modules_.size());
  return d;
}

Daemon::~Daemon() {
  Shutdown();
}

Status Daemon::Start() {
  KEFU_RETURN_IF_ERROR(server_->Start());
  lifecycle_.set_serving(true);
  for (const auto& module : modules_) {
    Status s = module->Start();
    if (!s.ok()) {
      Shutdown();
      return Status(s.code(), "module " + std::string(module->name()) + ": " + s.message());
    }
    ++started_modules_;
  }
  spdlog::info("kefud serving listen={} port={}", config_.server.listen, port());
  return Status::Ok();
}

uint16_t Daemon::port() const {
  return server_ ? server_->port() : 0;
}

void Daemon::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  bool was_serving = lifecycle_.serving();
  auto began = std::chrono::steady_clock::now();
  lifecycle_.set_serving(false);
  if (server_) server_->Stop(config_.daemon.drain_timeout);
  while (started_modules_ > 0) {
    --started_modules_;
    modules_[started_modules_]->Stop();
  }
  if (workers_) workers_->Stop();
  if (writer_) writer_->Stop();
  server_.reset();
  reads_.reset();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - began);
  if (was_serving) spdlog::info("kefud stopped took_ms={}", took.count());
}

}  // namespace kefu::app
