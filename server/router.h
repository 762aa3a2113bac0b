// Maps method + path to a handler. Patterns are literal segments plus "{name}" segments (one
// path segment, percent-decoded, into HttpRequest::path_params) and an optional final "{name*}"
// segment that takes the rest of the path ("/console/{file*}").
//
// Threads: build the router completely before HttpServer::Start(); afterwards it is only read
// (concurrently, from I/O threads) and must not be changed. It must outlive the server.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http.h"
#include "core/status.h"

namespace kefu::server {

struct RouteOptions {
  // Require "Authorization: Bearer <token>" checked by the server's Authenticator.
  // nullopt (default): required exactly when the pattern starts with "/api/v1/".
  std::optional<bool> authenticated;
  // Least role the principal must have (agent < supervisor < admin), else 403. Empty: any role.
  // Only meaningful on an authenticated route.
  std::string role;

  // Shorthands (GCC 12 warns on designated initializers that omit a field under -Wextra):
  // a route open to everyone, e.g. a login or webhook route under /api/v1/.
  static RouteOptions Public() { return RouteOptions{false, {}}; }
  // An authenticated route requiring at least `role`.
  static RouteOptions Role(std::string role) { return RouteOptions{true, std::move(role)}; }
};

// A cheap handler that answers on the I/O thread (no database, no blocking).
using SyncHttpHandler = std::function<HttpResponse(HttpRequest&)>;

struct Route {
  std::size_t index = 0;  // 0..routes().size()-1, in registration order
  std::string method;     // "GET", "POST", ...
  std::string pattern;    // as registered; used as the `route` metric label
  HttpHandler handler;    // exactly one of handler / sync_handler is set
  SyncHttpHandler sync_handler;
  bool authenticated = false;
  std::string role;
};

struct RouteMatch {
  enum class Kind {
    kFound,             // `route` and `params` are set
    kNotFound,          // no pattern matches the path -> 404
    kMethodNotAllowed,  // a pattern matches but not for this method -> 405, `allow` lists methods
    kBadPath,           // the path is not "/..." or has a bad percent escape -> 400
  };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;  // decoded
  std::string allow;                                        // "GET, POST"
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers an asynchronous handler: it gets the request and a responder to call exactly once,
  // from any thread (see core/http.h). The request stays valid until the responder is called
  // or destroyed. A responder destroyed without being called answers 500.
  // A malformed pattern or a duplicate method+pattern is recorded in status().
  void Add(std::string method, std::string pattern, HttpHandler handler, RouteOptions options = {});
  // Registers a synchronous handler that returns the response on the I/O thread.
  void AddSync(std::string method, std::string pattern, SyncHttpHandler handler,
               RouteOptions options = {});

  // Ok, or kInvalidArgument for the first bad registration ("route GET /a/{: unclosed '{'").
  // HttpServer::Start() fails with it.
  const Status& status() const { return status_; }

  // Matches a raw (still percent-encoded) path without query string. Literal segments win over
  // "{param}" segments, which win over "{rest*}". HEAD falls back to GET.
  RouteMatch Match(std::string_view method, std::string_view raw_path) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  struct Node;
  using Params = std::vector<std::pair<std::string, std::string>>;
  // The node matching segments[i..] that accepts `method` (empty: any method), filling params.
  static const Node* Find(const Node& node, const std::vector<std::string>& segments, std::size_t i,
                          std::string_view method, Params& params);
  void AddRoute(std::string method, std::string pattern, HttpHandler handler,
                SyncHttpHandler sync_handler, RouteOptions options);

  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
  Status status_;
};

}  // namespace kefu::server
