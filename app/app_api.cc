#include <nlohmann/json.hpp>

#include "app/api_support.h"
#include "app/api_tokens.h"
#include "app/app_module.h"
#include "server/authenticator.h"
#include "server/metrics.h"

namespace kefu::app {
namespace {

constexpr std::string_view kHeartbeat =
    "INSERT INTO app_heartbeat (id, beat_at_ms) VALUES (1, ?) "
    "ON CONFLICT (id) DO UPDATE SET beat_at_ms = excluded.beat_at_ms";

}  // namespace

void RegisterAppApi(Services& services) {
  server::Router& router = services.router;

  // Liveness: the process answers.
  router.AddSync("GET", "/healthz",
                 [](HttpRequest&) { return HttpResponse::Json(200, R"({"status":"ok"})"); });

  // Readiness: serving (not draining) and the database takes a write through the writer
  // (migrations were applied before the server started listening).
  router.Add("GET", "/readyz", [&services](HttpRequest&, HttpResponder respond) {
    if (!services.lifecycle.serving()) {
      respond(HttpResponse::Json(503, R"({"status":"unavailable","reason":"not serving"})"));
      return;
    }
    const Clock& clock = services.clock;
    services.writer.Post(
        [&clock](storage::Database& db) -> Status {
          KEFU_ASSIGN_OR_RETURN(storage::Statement * beat, db.Prepare(kHeartbeat));
          KEFU_RETURN_IF_ERROR(beat->Bind(1, clock.NowUnixMs()));
          return beat->Run();
        },
        [respond = std::move(respond)](Status s) {
          if (s.ok()) {
            respond(HttpResponse::Json(200, R"({"status":"ready"})"));
          } else {
            respond(JsonResponse({{"status", "unavailable"}, {"reason", s.ToString()}}, 503));
          }
        });
  });

  prometheus::Registry& metrics = services.metrics;
  router.AddSync("GET", "/metrics",
                 [&metrics](HttpRequest&) { return server::MetricsResponse(metrics); });

  // Who the bearer token belongs to.
  router.AddSync("GET", "/api/v1/whoami", [](HttpRequest& request) {
    std::optional<server::Principal> p = server::PrincipalOf(request);
    if (!p) return HttpResponse::Error(401, "unauthenticated", "no principal");
    return JsonResponse({{"subject", p->subject}, {"role", p->role}});
  });

  // Returns the request body unchanged (same Content-Type). An authenticated no-op POST route for
  // load tests and for the shutdown-drain test; it touches no state.
  router.AddSync("POST", "/api/v1/echo", [](HttpRequest& request) {
    HttpResponse response;
    response.status = 200;
    auto type = request.Header("Content-Type");
    response.content_type = type ? std::string(*type) : "application/octet-stream";
    response.body = std::move(request.body);
    return response;
  });

  // Token list (admins only); creation and revocation are kefuctl verbs.
  router.Add("GET", "/api/v1/tokens",
             [&services](HttpRequest&, HttpResponder respond) {
               RespondWithRead(
                   services,
                   [](storage::Database& db) -> Result<HttpResponse> {
                     KEFU_ASSIGN_OR_RETURN(std::vector<ApiToken> tokens, ListApiTokens(db));
                     nlohmann::json list = nlohmann::json::array();
                     for (const ApiToken& t : tokens)
                       list.push_back(TokenJson(t));
                     return JsonResponse({{"tokens", list}});
                   },
                   std::move(respond));
             },
             {.authenticated = true, .role = std::string(kRoleAdmin)});
}

}  // namespace kefu::app
