// The "ticketing" module of kefud: tickets, the SLA engine and its scheduler, and their REST routes
// (app/ticketing_api.cc). See docs/sla.md.
#pragma once

#include <memory>

#include "app/module.h"
#include "ticketing/sqlite_ticket_store.h"
#include "ticketing/ticket_api.h"
#include "ticketing/ticket_service.h"

namespace kefu::app {

// Registers /api/v1/tickets..., /api/v1/sla/policies, /api/v1/calendars, /api/v1/reports/sla on
// the router. Each handler runs the blocking TicketApi call on the worker pool. `api` must outlive
// the router's use.
void RegisterTicketingApi(Services& services, ticketing::TicketApi& api);

// Module "ticketing": migrations; Init builds the SLA policy set from Config::sla (fails with the
// calendar/policy error), the SQLite ticket store, the service and the scheduler, registers the
// routes and provides ticketing::TicketService to other modules. Public replies go to the
// ticketing::ReplySink and notifications to the ticketing::SlaNotifier other modules Provide
// (looked up when used, so channels may Init after ticketing); without a sink, public replies fail
// with 409. Start rebuilds the scheduler from the store and starts it; Stop stops it.
std::unique_ptr<Module> MakeTicketingModule();

}  // namespace kefu::app
