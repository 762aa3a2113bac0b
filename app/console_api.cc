// The web console's server side: login sessions and the embedded static files. The console itself
// (console/*.js) is a client of the same /api/v1 routes as everyone else, with a session token as
// its bearer token.
#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "app/api_support.h"
#include "app/api_tokens.h"
#include "app/app_module.h"
#include "app/console_assets.h"
#include "app/login_throttle.h"
#include "app/token_authenticator.h"
#include "app/users.h"

namespace kefu::app {
namespace {

// Only our own files, no inline script, no framing: customer text the console shows can never
// run as code even if an escaping bug slipped in.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' "
    "data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const server::RouteOptions kPublic{.authenticated = false, .role = ""};

HttpResponse AssetResponse(const ConsoleAsset& asset) {
  HttpResponse r;
  r.status = 200;
  r.content_type = std::string(asset.content_type);
  r.body = std::string(asset.body);
  r.headers["Content-Security-Policy"] = std::string(kContentSecurityPolicy);
  r.headers["X-Content-Type-Options"] = "nosniff";
  r.headers["Referrer-Policy"] = "no-referrer";
  r.headers["Cache-Control"] = "no-cache";
  return r;
}

HttpResponse Redirect(std::string location) {
  HttpResponse r = HttpResponse::Text(302, "");
  r.headers["Location"] = std::move(location);
  return r;
}

const ConsoleAsset* FindAsset(std::string_view name) {
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// A hash of a password nobody has, verified when the username is unknown so that a login for an
// unknown user takes as long as one with a wrong password.
const std::string& DecoyHash() {
  static const std::string hash = HashPassword("decoy-password-for-timing").value_or("");
  return hash;
}

struct LoginState {
  explicit LoginState(Services& s)
      : throttle(s.clock),
        results(prometheus::BuildCounter()
                    .Name("kefu_app_logins_total")
                    .Help("Console login attempts by result")
                    .Register(s.metrics)),
        ok(results.Add({{"result", "ok"}})),
        rejected(results.Add({{"result", "rejected"}})),
        throttled(results.Add({{"result", "throttled"}})),
        bad_request(results.Add({{"result", "bad_request"}})),
        error(results.Add({{"result", "error"}})) {}

  LoginThrottle throttle;
  prometheus::Family<prometheus::Counter>& results;
  prometheus::Counter& ok;
  prometheus::Counter& rejected;
  prometheus::Counter& throttled;
  prometheus::Counter& bad_request;
  prometheus::Counter& error;
};

// Checks the password on a worker thread (slow by design), then creates the session in the writer.
void Login(Services& services, std::shared_ptr<LoginState> state, std::string username,
           std::string password, HttpResponder respond) {
  auto user = services.reads.Read([&](storage::Database& db) -> Result<std::optional<StoredUser>> {
    return FindUser(db, username);
  });
  if (!user.ok()) {
    state->error.Increment();
    respond(HttpResponse::Error(user.status()));
    return;
  }
  bool valid;
  if (user->has_value()) {
    valid = VerifyPassword((*user)->password_hash, password) && !(*user)->user.disabled_at_ms;
  } else {
    VerifyPassword(DecoyHash(), password);
    valid = false;
  }
  if (!valid) {
    state->throttle.RecordFailure(username);
    state->rejected.Increment();
    spdlog::info("console login rejected username={}", username);
    respond(HttpResponse::Error(401, "unauthenticated", "invalid username or password"));
    return;
  }
  state->throttle.RecordSuccess(username);
  const User account = (*user)->user;
  const int64_t ttl_ms = services.config.auth.session_ttl.count();
  auto created = std::make_shared<Result<CreatedToken>>(Internal("session not created"));
  const Clock& clock = services.clock;
  services.writer.Post(
      [created, account, ttl_ms, &clock](storage::Database& db) {
        *created =
            CreateSessionToken(db, clock, account.id, account.username, account.role, ttl_ms);
        return created->status();
      },
      [created, account, state, respond = std::move(respond)](Status s) {
        if (!s.ok()) {
          state->error.Increment();
          respond(HttpResponse::Error(s));
          return;
        }
        state->ok.Increment();
        spdlog::info("console login username={} role={}", account.username, account.role);
        respond(JsonResponse({{"token", (*created)->bearer},
                              {"expires_at_ms", *(*created)->token.expires_at_ms},
                              {"user", UserJson(account)}},
                             201));
      });
}

}  // namespace

void RegisterConsoleApi(Services& services) {
  server::Router& router = services.router;
  auto state = std::make_shared<LoginState>(services);

  // Login: {"username", "password"} -> 201 {"token", "expires_at_ms", "user"}. The token is a
  // bearer token for every /api/v1 route, with the user's role.
  router.Add(
      "POST", "/api/v1/session",
      [&services, state](HttpRequest& request, HttpResponder respond) {
        auto body = ParseJsonBody(request);
        if (!body.ok()) {
          state->bad_request.Increment();
          respond(HttpResponse::Error(body.status()));
          return;
        }
        for (const char* field : {"username", "password"}) {
          if (!body->contains(field) || !(*body)[field].is_string()) {
            state->bad_request.Increment();
            respond(HttpResponse::Error(400, "invalid_argument",
                                        std::string(field) + ": required string"));
            return;
          }
        }
        std::string username = (*body)["username"].get<std::string>();
        std::string password = (*body)["password"].get<std::string>();
        if (!state->throttle.Allowed(username)) {
          state->throttled.Increment();
          respond(HttpResponse::Error(429, "resource_exhausted",
                                      "too many failed logins for this user; try again later"));
          return;
        }
        auto shared_respond = std::make_shared<HttpResponder>(std::move(respond));
        bool queued = services.workers.Post([&services, state, username = std::move(username),
                                             password = std::move(password), shared_respond] {
          Login(services, state, username, password, std::move(*shared_respond));
        });
        if (!queued) (*shared_respond)(HttpResponse::Error(503, "unavailable", "shutting down"));
      },
      kPublic);

  // Logout: ends the session whose token authenticated this request.
  router.Add("DELETE", "/api/v1/session", [&services](HttpRequest& request, HttpResponder respond) {
    std::string_view bearer = request.Header("Authorization").value_or("");
    if (bearer.starts_with("Bearer ")) bearer.remove_prefix(7);
    auto parsed = ParseBearerToken(bearer);
    if (!parsed.ok()) {
      respond(HttpResponse::Error(parsed.status()));
      return;
    }
    const int64_t id = parsed->id;
    if (auto* auth = services.registry.Get<TokenAuthenticator>()) auth->Forget(id);
    const Clock& clock = services.clock;
    RespondWithWrite(
        services,
        [id, &clock](storage::Database& db) -> Result<HttpResponse> {
          KEFU_ASSIGN_OR_RETURN(std::optional<StoredToken> stored, FindApiToken(db, id));
          if (!stored || !stored->token.user_id) {
            return InvalidArgument(
                "only a console session can be ended here; revoke API tokens "
                "with kefuctl token revoke");
          }
          Status revoked = RevokeApiToken(db, clock, id);
          if (!revoked.ok() && revoked.code() != StatusCode::kFailedPrecondition) return revoked;
          return HttpResponse::Json(200, R"({"logged_out":true})");
        },
        std::move(respond));
  });

  // Users, for the console's assignee lists (any signed-in role).
  router.Add("GET", "/api/v1/users", [&services](HttpRequest&, HttpResponder respond) {
    RespondWithRead(
        services,
        [](storage::Database& db) -> Result<HttpResponse> {
          KEFU_ASSIGN_OR_RETURN(std::vector<User> users, ListUsers(db));
          nlohmann::json list = nlohmann::json::array();
          for (const User& u : users)
            list.push_back(UserJson(u));
          return JsonResponse({{"users", list}});
        },
        std::move(respond));
  });

  // The console's files. Public: they hold no data; everything they show comes from /api/v1.
  router.AddSync(
      "GET", "/", [](HttpRequest&) { return Redirect("/console/"); }, kPublic);
  router.AddSync(
      "GET", "/console", [](HttpRequest&) { return Redirect("/console/"); }, kPublic);
  router.AddSync(
      "GET", "/console/", [](HttpRequest&) { return AssetResponse(*FindAsset("index.html")); },
      kPublic);
  router.AddSync(
      "GET", "/console/{file}",
      [](HttpRequest& request) {
        const ConsoleAsset* asset = FindAsset(request.path_params["file"]);
        if (asset == nullptr) return HttpResponse::Error(404, "not_found", "no such console file");
        return AssetResponse(*asset);
      },
      kPublic);
}

}  // namespace kefu::app
