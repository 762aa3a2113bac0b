#include <iostream>

#include "app/logging.h"
#include "tools/command.h"
#if defined(KEFU_HAVE_knowledge)
#include "tools/faq_commands.h"
#endif
#if defined(KEFU_HAVE_ticketing)
#include "tools/sla_commands.h"
#endif

namespace kefu::tools {
namespace {

// One line per group of verbs; feature modules' lines are guarded by KEFU_HAVE_<library>.
constexpr CommandRegistrar kRegistrars[] = {
    RegisterTokenCommands,
    RegisterBackupCommands,
#if defined(KEFU_HAVE_knowledge)
    RegisterFaqCommands,
#endif
#if defined(KEFU_HAVE_ticketing)
    RegisterSlaCommands,
#endif
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
