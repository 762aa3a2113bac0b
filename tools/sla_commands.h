// kefuctl sla due|between: business-hours arithmetic on a calendar of the config file's [sla]
// section, for admins checking a calendar and for black-box checks (tools/sla_commands.cc).
//
//   kefuctl sla due --config FILE --calendar NAME --from RFC3339 --business-minutes N
//       prints the due instant in RFC 3339 in the calendar's zone
//   kefuctl sla between --config FILE --calendar NAME --from A --to B
//       prints the business minutes in [A, B)
//
// Exit codes: 0, or 2 with "kefuctl: <message naming the flag or key>" for a missing config, a bad
// [sla] section, an unknown calendar or a malformed time.
#pragma once

#include <CLI/CLI.hpp>

#include "tools/command.h"

namespace kefu::tools {

void RegisterSlaCommands(CLI::App& kefuctl, CommandContext& ctx);

}  // namespace kefu::tools
