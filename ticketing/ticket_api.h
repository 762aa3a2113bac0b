// TicketApi: the REST resources of ticketing as blocking functions over core HTTP values, so the
// app adapter (app/ticketing_api.cc) only routes and moves them to a worker thread, and tests call
// them directly. Every function returns a JSON HttpResponse; bad input is a 400 naming the field
// ("status: unknown status \"waiting\""), an unknown ticket a 404.
//
//   GET   /api/v1/tickets?status=&priority=&group=&assignee=&sla=ok|warning|breached&q=
//         &after=&limit=
//   POST  /api/v1/tickets  {requester, channel, subject, group, priority, tags, message}
//   GET   /api/v1/tickets/{id}  ticket + timeline (messages and events) + sla metrics
//   PATCH /api/v1/tickets/{id}  {status, priority, group, assignee, tags}
//   POST  /api/v1/tickets/{id}/comments  {body, public: true (reply via outbox) | false (note)}
//   POST  /api/v1/tickets/{id}/merge  {target: id}: merges {id} into target, returns the target
//   GET   /api/v1/sla/policies
//   GET   /api/v1/calendars
//   GET   /api/v1/reports/sla?from=RFC3339&to=RFC3339&group=
//
// Threads: thread-safe; blocks on the database (call from worker threads, never I/O threads).
#pragma once

#include "core/http.h"
#include "ticketing/ticket_service.h"

namespace kefu::ticketing {

class TicketApi {
 public:
  // `service` must outlive the api.
  explicit TicketApi(TicketService& service) : service_(service) {}

  HttpResponse ListTickets(const HttpRequest& request);
  HttpResponse CreateTicket(const HttpRequest& request, const Actor& actor);
  HttpResponse GetTicket(const HttpRequest& request);
  HttpResponse UpdateTicket(const HttpRequest& request, const Actor& actor);
  HttpResponse AddComment(const HttpRequest& request, const Actor& actor);
  // 200 with the target; 400 "target: ..." for a missing, non-integer or same id; 404 for an
  // unknown ticket; 409 when either ticket is closed.
  HttpResponse MergeTicket(const HttpRequest& request, const Actor& actor);
  HttpResponse ListPolicies(const HttpRequest& request);
  HttpResponse ListCalendars(const HttpRequest& request);
  // Hit rate per metric and priority; p50/p90 of first_response and resolution in business
  // minutes, over metric instances started in [from, to).
  HttpResponse SlaReport(const HttpRequest& request);

 private:
  TicketService& service_;
};

}  // namespace kefu::ticketing
