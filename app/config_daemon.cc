#include <chrono>

#include "app/config_sections.h"

namespace kefu::app {

void ReadDaemonConfig(const ConfigSection& root, Config& config) {
  using std::chrono::milliseconds;
  ConfigSection log = root.Table("log");
  log.Enum("level", config.log.level,
           {{"trace", std::string("trace")},
            {"debug", std::string("debug")},
            {"info", std::string("info")},
            {"warn", std::string("warn")},
            {"error", std::string("error")},
            {"critical", std::string("critical")},
            {"off", std::string("off")}});

  ConfigSection daemon = root.Table("daemon");
  daemon.Duration("drain_timeout", config.daemon.drain_timeout, milliseconds(0),
                  milliseconds(600'000));

  ConfigSection auth = root.Table("auth");
  auth.Duration("token_cache_ttl", config.auth.token_cache_ttl, milliseconds(0),
                milliseconds(3'600'000));
  auth.Duration("session_ttl", config.auth.session_ttl, milliseconds(60'000),
                milliseconds(30LL * 24 * 3'600'000));
}

}  // namespace kefu::app
