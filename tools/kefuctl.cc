#include <iostream>

#include "app/logging.h"
#include "tools/command.h"
#include "tools/faq_commands.h"
#include "tools/simulate_commands.h"
#include "tools/sla_commands.h"

namespace kefu::tools {
namespace {

// One line per group of verbs.
constexpr CommandRegistrar kRegistrars[] = {
    RegisterTokenCommands, RegisterUserCommands, RegisterBackupCommands,
    RegisterFaqCommands,   RegisterSlaCommands,  RegisterSimulateCommands,
};

}  // namespace

int RunKefuctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
               const Clock& clock) {
  CommandContext ctx(out, err, clock);
  CLI::App cli("kefuctl - kefu administration and tooling", "kefuctl");
  cli.add_option("--config,-c", ctx.source().path, "TOML configuration file (as kefud's)");
  cli.add_option("--set", ctx.source().overrides, "Override a key: section.key=value (repeatable)")
      ->type_name("KEY=VALUE");
  cli.add_flag("--json", ctx.json_flag(), "Print JSON instead of text");
  cli.set_version_flag("--version", std::string("kefuctl ") + KEFU_VERSION);
  cli.require_subcommand(1);
  cli.fallthrough();
  for (CommandRegistrar reg : kRegistrars)
    reg(cli, ctx);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    cli.exit(e, out, err);
    return kExitUsage;
  }
  // Warnings and errors of the libraries go to stderr; verbs print their own results.
  app::SetUpLogging("kefuctl", "warn");
  return ctx.RunAction();
}

}  // namespace kefu::tools
