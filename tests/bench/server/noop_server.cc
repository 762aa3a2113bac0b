// kefu's HttpServer with no-op routes, for the HTTP benchmark against kefu_bench_echo_server.
// Same response as the echo server. GET /noop answers on the I/O thread (AddSync); GET
// /noop-async answers through the HttpResponder (posted back to the connection's strand).
//
//   kefu_bench_noop_server [--port N] [--threads N]     prints "PORT <n>" once listening
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "server/http_server.h"

int main(int argc, char** argv) {
  kefu::server::ServerOptions options;
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--threads") == 0) options.threads = std::atoi(argv[i + 1]);
  }
  options.listen = "127.0.0.1:" + std::to_string(port);
  spdlog::set_level(spdlog::level::info);

  kefu::server::Router router;
  router.AddSync("GET", "/noop", [](kefu::HttpRequest&) {
    return kefu::HttpResponse::Json(200, R"({"ok":true})");
  });
  router.Add("GET", "/noop-async", [](kefu::HttpRequest&, kefu::HttpResponder respond) {
    respond(kefu::HttpResponse::Json(200, R"({"ok":true})"));
  });
  prometheus::Registry registry;
  kefu::server::HttpServer server(options, router, registry, nullptr);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the I/O threads inherit the mask

  kefu::Status status = server.Start();
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("PORT %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  server.Stop(std::chrono::seconds(5));
  return 0;
}
