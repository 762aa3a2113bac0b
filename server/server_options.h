// Edge limits and threading of the HTTP listener. The app parses the [server] TOML section into
// this struct; every field has a safe default.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "core/status.h"

namespace kefu::server {

struct ServerOptions {
  // "host:port" or "[v6]:port"; port 0 picks a free port (see HttpServer::port()).
  std::string listen = "127.0.0.1:8080";
  // Threads running the single io_context.
  int threads = 2;
  // Largest accepted request body; larger -> 413 and the connection is closed.
  std::size_t body_limit = 1024 * 1024;
  // Largest accepted request line + header fields; larger -> 431 and the connection is closed.
  std::size_t header_limit = 16 * 1024;
  // Time from the first byte of a request until it is completely read (header and body);
  // exceeded -> the connection is closed (slowloris protection).
  std::chrono::milliseconds read_timeout{10000};
  // Time a keep-alive connection may wait for the first byte of its next request.
  std::chrono::milliseconds idle_timeout{60000};
  // Time allowed to write one response to a client that does not read it.
  std::chrono::milliseconds write_timeout{10000};
  // Open connections above this are closed as soon as they are accepted.
  std::size_t max_connections = 10000;
};

// Ok, or kInvalidArgument naming the first bad key ("server.threads: must be between 1 and 256").
Status Validate(const ServerOptions& options);

}  // namespace kefu::server
