#include <chrono>

#include "app/config_sections.h"

namespace kefu::app {

void ReadServerConfig(const ConfigSection& root, Config& config) {
  using std::chrono::milliseconds;
  ConfigSection s = root.Table("server");
  server::ServerOptions& o = config.server;
  s.NonEmptyString("listen", o.listen);
  if (s.Has("listen") && o.listen.rfind(':') == std::string::npos) {
    s.Error("listen", "expected host:port, got \"" + o.listen + "\"");
  }
  s.Int("threads", o.threads, 1, 64);
  s.ByteSize("body_limit", o.body_limit, 1024, int64_t{1} << 30);
  s.ByteSize("header_limit", o.header_limit, 1024, int64_t{1} << 20);
  s.Duration("read_timeout", o.read_timeout, milliseconds(100), milliseconds(600'000));
  s.Duration("idle_timeout", o.idle_timeout, milliseconds(100), milliseconds(3'600'000));
  s.Duration("write_timeout", o.write_timeout, milliseconds(100), milliseconds(600'000));
  int64_t max_connections = static_cast<int64_t>(o.max_connections);
  s.Int64("max_connections", max_connections, 1, 1'000'000);
  o.max_connections = static_cast<size_t>(max_connections);
}

}  // namespace kefu::app
