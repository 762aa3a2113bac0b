// Plain HTTP request/response values shared by the server (which adapts Beast to them) and by
// the modules that handle requests (channels, app) without depending on the server.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace kefu {

// Case-insensitive header map (HTTP header names are case-insensitive).
struct HeaderLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};
using Headers = std::map<std::string, std::string, HeaderLess>;

// Who sent an authenticated request: filled by the server after bearer-token or session
// authentication; absent on public routes.
struct Principal {
  std::string subject;  // who: an agent login or a token name
  std::string role;     // "agent" | "supervisor" | "admin"
};

struct HttpRequest {
  std::string method;                              // "GET", "POST", ...
  std::string path;                                // percent-decoded path without the query string
  std::string target;                              // raw request target as received
  std::map<std::string, std::string> query;        // decoded query parameters
  std::map<std::string, std::string> path_params;  // filled by the router: {id} -> "42"
  Headers headers;
  std::string body;
  std::string remote_address;
  std::optional<Principal> principal;  // set by the server on authenticated routes

  // Header value or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  // Query parameter value or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  Headers headers;  // extra headers beyond Content-Type/Content-Length

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body);
  // {"error": {"code": "<status code name>", "message": "..."}} with the HTTP status mapped from
  // the StatusCode (invalid_argument -> 400, unauthenticated -> 401, not_found -> 404, ...).
  static HttpResponse Error(const Status& status);
  static HttpResponse Error(int http_status, std::string_view code, std::string_view message);
};

// Maps a StatusCode to its HTTP status (kOk -> 200, kInvalidArgument -> 400, ...).
int HttpStatusFor(StatusCode code);

// Completes a request. May be called from any thread, exactly once; the server posts the
// response back to the connection's strand.
using HttpResponder = std::function<void(HttpResponse)>;

// An asynchronous handler: must not block (no waiting for the database on an I/O thread);
// hands work to another executor and calls the responder when done.
using HttpHandler = std::function<void(HttpRequest&, HttpResponder)>;

}  // namespace kefu
