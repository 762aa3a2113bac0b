// kefuctl's command framework. Each group of verbs lives in its own tools/<x>_commands.cc and
// exposes one `void Register<X>Commands(CLI::App& kefuctl, CommandContext& ctx)` that adds its
// subcommands and, for each, calls ctx.SetAction(...) from the subcommand's callback. The list of
// registrars is kRegistrars in tools/kefuctl.cc: one line per group.
//
//   void RegisterFaqCommands(CLI::App& kefuctl, CommandContext& ctx) {
//     CLI::App* faq = kefuctl.add_subcommand("faq", "FAQ base")->require_subcommand(1);
//     auto path = std::make_shared<std::string>();
//     CLI::App* import = faq->add_subcommand("import", "Import FAQs from a file");
//     import->add_option("FILE", *path)->required();
//     import->callback([&ctx, path] { ctx.SetAction([&ctx, path] { return ImportFaqs(ctx, *path);
//     }); });
//   }
//
// An action returns the process exit code: kExitOk, kExitFailure (runtime error) or kExitUsage
// (bad arguments or config). Use ctx.Fail(status) to print "kefuctl: <message>" and pick the code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "app/config.h"
#include "app/module.h"
#include "core/clock.h"
#include "core/result.h"
#include "storage/database.h"

namespace kefu::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// State shared by the verbs of one kefuctl run. Not thread-safe.
class CommandContext {
 public:
  CommandContext(std::ostream& out, std::ostream& err, const Clock& clock);
  ~CommandContext();

  // The global options (filled by the parser).
  app::ConfigSource& source() { return source_; }
  bool& json_flag() { return json_; }

  // True when --json was given: print one JSON document on stdout instead of text.
  bool json() const { return json_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  const Clock& clock() const { return clock_; }

  // The configuration from --config/--set, loaded on first use. On errors prints every error line
  // to err() and returns kInvalidArgument "configuration errors".
  Result<const app::Config*> Config();

  // The read-write connection to the daemon's database (data_dir created and every module's
  // migrations applied, as kefud does), opened on first use. Safe while kefud runs (WAL; writes
  // wait up to storage.busy_timeout for kefud's writer).
  Result<storage::Database*> WriteDatabase();

  // A read-only connection to an existing database (kUnavailable if it does not exist).
  Result<storage::Database*> ReadDatabase();

  // Prints "kefuctl: <message>" to err(); returns kExitUsage for kInvalidArgument, else
  // kExitFailure.
  int Fail(const Status& status);

  // Prints `j` (pretty) followed by a newline on out().
  void PrintJson(const nlohmann::json& j);

  // Records the action of the chosen subcommand (call from its CLI11 callback).
  void SetAction(std::function<int()> action) { action_ = std::move(action); }
  // Runs the recorded action; kExitUsage with a message when no verb was chosen.
  int RunAction();

 private:
  std::ostream& out_;
  std::ostream& err_;
  const Clock& clock_;
  app::ConfigSource source_;
  bool json_ = false;
  std::unique_ptr<app::ConfigLoad> config_;
  std::vector<std::unique_ptr<app::Module>> modules_;
  std::unique_ptr<storage::Database> write_db_;
  std::unique_ptr<storage::Database> read_db_;
  std::function<int()> action_;
};

using CommandRegistrar = void (*)(CLI::App& kefuctl, CommandContext& ctx);

// tools/token_commands.cc: token create|list|revoke.
void RegisterTokenCommands(CLI::App& kefuctl, CommandContext& ctx);
// tools/backup_commands.cc: backup OUT.
void RegisterBackupCommands(CLI::App& kefuctl, CommandContext& ctx);
// tools/user_commands.cc: user add|list|passwd|disable.
void RegisterUserCommands(CLI::App& kefuctl, CommandContext& ctx);

// The whole of kefuctl (main only forwards to it; tests call it directly). Returns the exit code.
int RunKefuctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
               const Clock& clock);

}  // namespace kefu::tools
