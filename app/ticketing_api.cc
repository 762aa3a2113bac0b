#include "app/ticketing_api.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "app/config_sla.h"
#include "server/authenticator.h"
#include "ticketing/sla_config.h"
#include "ticketing/sla_scheduler.h"

namespace kefu::app {
namespace {

ticketing::Actor ActorOf(const HttpRequest& request) {
  auto p = server::PrincipalOf(request);
  if (!p) return ticketing::Actor{ticketing::ActorKind::kApiToken, ""};
  // Console sessions authenticate agents; everything else is an API token.
  return ticketing::Actor{p->role == "agent" || p->role == "supervisor"
                              ? ticketing::ActorKind::kAgent
                              : ticketing::ActorKind::kApiToken,
                          p->subject};
}

// Runs `call` on a worker thread and answers with its response (503 if the pool is stopped).
template <typename F>
HttpHandler OnWorker(Services& services, F call) {
  return [&services, call](HttpRequest& request, HttpResponder respond) {
    auto shared = std::make_shared<HttpResponder>(std::move(respond));
    const bool queued =
        services.workers.Post([call, &request, shared] { (*shared)(call(request)); });
    if (!queued) (*shared)(HttpResponse::Error(503, "unavailable", "shutting down"));
  };
}

// Ports other modules provide (channels: the outbox; console/robots: notifications) are looked up
// when used, not at Init: modules Init in dependency order and ticketing comes before channels.
class LateReplySink final : public ticketing::ReplySink {
 public:
  explicit LateReplySink(const ServiceRegistry& registry) : registry_(registry) {}
  Status Enqueue(storage::Database& db, const ticketing::OutboundReply& reply) override {
    ticketing::ReplySink* sink = registry_.Get<ticketing::ReplySink>();
    if (sink == nullptr) return FailedPrecondition("no outbox: public replies cannot be sent");
    return sink->Enqueue(db, reply);
  }

 private:
  const ServiceRegistry& registry_;
};

class LateNotifier final : public ticketing::SlaNotifier {
 public:
  explicit LateNotifier(const ServiceRegistry& registry) : registry_(registry) {}
  void Notify(const ticketing::SlaNotification& n) override {
    if (auto* notifier = registry_.Get<ticketing::SlaNotifier>()) notifier->Notify(n);
  }

 private:
  const ServiceRegistry& registry_;
};

class TicketingModule final : public Module {
 public:
  std::string_view name() const override { return "ticketing"; }

  std::vector<storage::Migration> Migrations() const override {
    return ticketing::SqliteTicketStore::Migrations();
  }

  Status Init(Services& services) override {
    const ticketing::SlaConfig& config = services.config.sla;
    KEFU_ASSIGN_OR_RETURN(auto policies, ticketing::BuildSlaPolicySet(config));
    replies_ = std::make_unique<LateReplySink>(services.registry);
    notifier_ = std::make_unique<LateNotifier>(services.registry);
    store_ = std::make_unique<ticketing::SqliteTicketStore>(services.writer, services.reads,
                                                            replies_.get());
    service_ = std::make_unique<ticketing::TicketService>(
        *store_, services.clock, std::move(policies), ticketing::ServiceOptionsFrom(config),
        services.metrics, notifier_.get());
    scheduler_ = std::make_unique<ticketing::SlaScheduler>(*service_, services.clock);
    api_ = std::make_unique<ticketing::TicketApi>(*service_);
    RegisterTicketingApi(services, *api_);
    services.registry.Provide<ticketing::TicketService>(*service_);
    return Status::Ok();
  }

  Status Start() override {
    KEFU_RETURN_IF_ERROR(scheduler_->Rebuild());
    scheduler_->Start();
    return Status::Ok();
  }

  void Stop() override {
    if (scheduler_) scheduler_->Stop();
  }

 private:
  std::unique_ptr<LateReplySink> replies_;
  std::unique_ptr<LateNotifier> notifier_;
  std::unique_ptr<ticketing::SqliteTicketStore> store_;
  std::unique_ptr<ticketing::TicketService> service_;
  std::unique_ptr<ticketing::SlaScheduler> scheduler_;
  std::unique_ptr<ticketing::TicketApi> api_;
};

}  // namespace

void RegisterTicketingApi(Services& services, ticketing::TicketApi& api) {
  server::Router& r = services.router;
  using ticketing::TicketApi;
  r.Add("GET", "/api/v1/tickets",
        OnWorker(services, [&api](HttpRequest& q) { return api.ListTickets(q); }));
  r.Add("POST", "/api/v1/tickets",
        OnWorker(services, [&api](HttpRequest& q) { return api.CreateTicket(q, ActorOf(q)); }));
  r.Add("GET", "/api/v1/tickets/{id}",
        OnWorker(services, [&api](HttpRequest& q) { return api.GetTicket(q); }));
  r.Add("PATCH", "/api/v1/tickets/{id}",
        OnWorker(services, [&api](HttpRequest& q) { return api.UpdateTicket(q, ActorOf(q)); }));
  r.Add("POST", "/api/v1/tickets/{id}/comments",
        OnWorker(services, [&api](HttpRequest& q) { return api.AddComment(q, ActorOf(q)); }));
  r.Add("POST", "/api/v1/tickets/{id}/merge",
        OnWorker(services, [&api](HttpRequest& q) { return api.MergeTicket(q, ActorOf(q)); }));
  r.Add("GET", "/api/v1/sla/policies",
        OnWorker(services, [&api](HttpRequest& q) { return api.ListPolicies(q); }));
  r.Add("GET", "/api/v1/calendars",
        OnWorker(services, [&api](HttpRequest& q) { return api.ListCalendars(q); }));
  r.Add("GET", "/api/v1/reports/sla",
        OnWorker(services, [&api](HttpRequest& q) { return api.SlaReport(q); }),
        server::RouteOptions::Role("supervisor"));
}

std::unique_ptr<Module> MakeTicketingModule() {
  return std::make_unique<TicketingModule>();
}

}  // namespace kefu::app
