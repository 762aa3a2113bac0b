// The HTTP/1.1 listener: Boost.Beast's parser over Asio, one io_context run by
// ServerOptions::threads threads, a strand per connection, keep-alive and pipelined requests
// answered in order. Edge limits (body, header, read/idle/write timeouts, connection count) come
// from ServerOptions; every rejection is counted in kefu_http_rejected_total{reason}.
//
// Per request: route (404/405 JSON errors), then for authenticated routes the bearer token is
// checked with the Authenticator (401 + WWW-Authenticate: Bearer, or 403 for a too-low role),
// then the handler runs on the connection's strand. Metrics registered in the given registry:
//   kefu_http_requests_total{route,method,status}      counter
//   kefu_http_request_duration_seconds{route}          histogram (first byte to response ready)
//   kefu_http_rejected_total{reason}                   body_limit | header_limit | bad_request |
//                                                      read_timeout | max_connections |
//                                                      unauthenticated | forbidden
//   kefu_http_connections_active                       gauge
//   kefu_build_info{version}                           gauge = 1
// One debug log line per request (method, route, status, duration); never bodies.
#pragma once

#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "core/status.h"
#include "server/authenticator.h"
#include "server/router.h"
#include "server/server_options.h"

namespace kefu::server {

class HttpServer {
 public:
  // `router`, `registry` and `authenticator` are not owned and must outlive the server.
  // `authenticator` may be null only if no route requires authentication.
  HttpServer(ServerOptions options, Router& router, prometheus::Registry& registry,
             Authenticator* authenticator);
  // Stops with no drain time if still running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Validates options and routes, binds, listens and starts the threads. Once only.
  // kInvalidArgument for bad options or routes, kFailedPrecondition when a route needs
  // authentication and there is no Authenticator or when called twice, kUnavailable when the
  // address cannot be bound (message names server.listen).
  Status Start();

  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;

  // Graceful stop, blocking the caller (never call it on an I/O thread): stops accepting, closes
  // idle keep-alive connections, lets requests in progress - including one whose body is still
  // arriving - finish and answers them with "Connection: close", waits at most `drain` for that,
  // then closes what is left and joins the threads. Idempotent.
  void Stop(std::chrono::milliseconds drain);

  // True once Stop() has begun (the app's /readyz may report not ready).
  bool stopping() const;

  // Requests between their first byte and the end of writing their response, right now.
  std::size_t requests_in_progress() const;

  // Open connections right now.
  std::size_t active_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kefu::server
