// kefud / kefuctl configuration: one TOML file (plus --set overrides) parsed once at startup into
// one typed struct per module, each with defaults.
//
// Adding a module's section (e.g. [[wecom.apps]]):
//   1. add a typed struct field to Config below (the struct lives in the module's own header or
//      in app/config_<module>.h);
//   2. write `void ReadWecomConfig(const ConfigSection& root, Config& config)` in
//      app/config_wecom.cc using the ConfigSection readers (they record errors, never throw);
//   3. declare it in app/config_sections.h and add it (guarded the same way) to kSectionReaders
//      in app/config.cc;
//   4. add every key with a one-line comment to deploy/kefud.example.toml (a unit test checks
//      that the example lists every key a reader asks for) and to README.md.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "app/channels_config.h"
#include "bot/bot_options.h"
#include "core/result.h"
#include "knowledge/matcher.h"
#include "server/server_options.h"
#include "storage/database.h"
#include "ticketing/sla_config.h"

namespace kefu::app {

// [storage]
struct StorageConfig {
  // Directory holding the database; created at startup if missing. A relative path resolves
  // against the working directory of the process (kefud and kefuctl alike).
  std::string data_dir = "./data";
  // Database file name inside data_dir.
  std::string database_file = "kefu.db";
  // PRAGMA synchronous for the write connection.
  storage::DatabaseOptions::Synchronous synchronous = storage::DatabaseOptions::Synchronous::kFull;
  // How long a statement waits for another connection's lock.
  std::chrono::milliseconds busy_timeout{5000};
  // Read-only connections in the read pool (WAL readers).
  int read_connections = 4;
  // Threads running blocking database reads for request handlers.
  int worker_threads = 4;
  // Run PRAGMA quick_check when kefud opens the database.
  bool quick_check_on_start = true;

  // data_dir / database_file.
  std::string DatabasePath() const;
};

// [log]
struct LogConfig {
  // trace, debug, info, warn, error, critical, off. "debug" logs one line per request.
  std::string level = "info";
};

// [daemon]
struct DaemonConfig {
  // On SIGTERM/SIGINT, how long in-flight requests may take to finish before connections close.
  std::chrono::milliseconds drain_timeout{10'000};
};

// [auth]
struct AuthConfig {
  // How long a verified API token stays cached; a revoked token stops working after at most this.
  std::chrono::milliseconds token_cache_ttl{10'000};
  // How long a console login session lasts (from login; logging out ends it earlier).
  std::chrono::milliseconds session_ttl{12 * 3'600'000};
};

// [knowledge], app/config_knowledge.cc
struct KnowledgeConfig {
  // The knobs an operator tunes (candidates, thresholds, pinyin, ...); the fitted reranker weights
  // and calibration keep their defaults.
  knowledge::MatcherOptions matcher;
  // How often kefud checks the knowledge tables' generation and rebuilds the live matcher when
  // another process (kefuctl) changed them. 0 disables the check.
  std::chrono::milliseconds refresh_interval{2000};
};

struct Config {
  server::ServerOptions server;
  StorageConfig storage;
  LogConfig log;
  DaemonConfig daemon;
  AuthConfig auth;
  ticketing::SlaConfig sla;   // [sla], app/config_sla.cc
  bot::BotOptions bot;        // [bot], app/config_bot.cc
  ChannelsConfig channels;    // [[wecom.apps]] [[dingtalk.apps]], app/config_channels.cc
  KnowledgeConfig knowledge;  // [knowledge], app/config_knowledge.cc
};

// Where the configuration comes from.
struct ConfigSource {
  // TOML file; empty means "defaults only" (still subject to overrides).
  std::string path;
  // "section.key=value" overrides, applied in order after the file. The value is parsed as a TOML
  // value (4, true, "x", [1, 2], "10s") and taken as a plain string when it does not parse.
  std::vector<std::string> overrides;
};

// The outcome of loading: the config, or every problem found (one line each, naming the key:
// "config: server.threads: must be between 1 and 64, got 0").
struct ConfigLoad {
  Config config;
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

// Reads the file, applies overrides, runs every section reader and reports unknown keys.
// Never throws.
ConfigLoad LoadConfig(const ConfigSource& source);
// Same from TOML text (tests); `origin` names the source in syntax errors.
ConfigLoad LoadConfigFromString(std::string_view toml_text,
                                const std::vector<std::string>& overrides = {},
                                std::string_view origin = "config");

// Every key any section reader asks for ("server.threads", "wecom.apps[].token"), for the test
// that keeps deploy/kefud.example.toml complete. `toml_text` drives which array-of-table
// elements exist.
std::vector<std::string> KnownConfigKeys(std::string_view toml_text);

}  // namespace kefu::app
