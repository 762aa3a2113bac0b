// kefud: parse flags, load config, build the Daemon, run until SIGTERM/SIGINT, shut down.
// Exit codes: 0 clean shutdown, 2 bad flags or config, 1 runtime failure.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/daemon.h"
#include "app/logging.h"
#include "app/module.h"
#include "core/clock.h"

namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  auto exec_time = std::chrono::steady_clock::now();
  CLI::App cli("kefud - kefu customer-service daemon", "kefud");
  kefu::app::ConfigSource source;
  bool check_only = false;
  cli.add_option("--config,-c", source.path, "TOML configuration file")->required();
  cli.add_option("--set", source.overrides, "Override a key: section.key=value (repeatable)")
      ->type_name("KEY=VALUE");
  cli.add_flag("--check-config", check_only, "Validate the configuration and exit");
  cli.set_version_flag("--version", std::string("kefud ") + KEFU_VERSION);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    cli.exit(e);
    return kExitUsage;
  }

  kefu::app::ConfigLoad load = kefu::app::LoadConfig(source);
  if (!load.ok()) {
    for (const std::string& line : load.errors)
      std::cerr << line << '\n';
    std::cerr << "kefud: " << load.errors.size() << " configuration error"
              << (load.errors.size() == 1 ? "" : "s") << '\n';
    return kExitUsage;
  }
  const kefu::app::Config& config = load.config;
  if (check_only) {
    std::cout << "config ok\nlisten " << config.server.listen << "\ndatabase "
              << config.storage.DatabasePath() << '\n';
    return 0;
  }
  kefu::app::SetUpLogging("kefud", config.log.level);

  // Block the stop signals in every thread (threads inherit the mask) so this thread alone
  // receives them through sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  kefu::SystemClock clock;
  auto daemon = kefu::app::Daemon::Create(config, kefu::app::MakeModules(config), clock);
  if (!daemon.ok()) {
    std::cerr << "kefud: cannot start: " << daemon.status().ToString() << '\n';
    return kExitRuntime;
  }
  if (kefu::Status s = (*daemon)->Start(); !s.ok()) {
    std::cerr << "kefud: cannot start: " << s.ToString() << '\n';
    return kExitRuntime;
  }
  auto ready_ms = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - exec_time)
                      .count() /
                  1000.0;
  spdlog::info("kefud ready startup_ms={:.1f} pid={}", ready_ms, getpid());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("kefud stopping signal={}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*daemon)->Shutdown();
  daemon->reset();
  return 0;
}
