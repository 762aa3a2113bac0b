#include "tools/sla_commands.h"

#include <toml++/toml.h>

#include <memory>
#include <sstream>
#include <string>

#include "app/config_reader.h"
#include "app/config_sla.h"
#include "ticketing/calendar.h"

namespace kefu::tools {
namespace {

struct SlaArgs {
  std::string calendar;
  std::string from;
  std::string to;
  int64_t business_minutes = -1;
};

// Reads only the [sla] section of --config (the other sections are kefud's business) and returns
// the named calendar.
Result<std::shared_ptr<const ticketing::BusinessCalendar>> LoadCalendar(CommandContext& ctx,
                                                                        const std::string& name) {
  const std::string& path = ctx.source().path;
  if (path.empty()) return InvalidArgument("--config: required (the file with [[sla.calendars]])");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ": " << e.description() << " at line " << e.source().begin.line;
    return InvalidArgument(msg.str());
  }
  app::ConfigReader reader(root);
  ticketing::SlaConfig sla;
  app::ReadSlaSection(reader.root(), sla);
  if (!reader.errors().empty()) {
    for (const auto& line : reader.errors())
      ctx.err() << line << '\n';
    return InvalidArgument("configuration errors in " + path);
  }
  std::string known;
  for (const auto& spec : sla.calendars) {
    if (spec.name == name) return ticketing::BusinessCalendar::Create(spec);
    known.append(known.empty() ? "" : ", ").append(spec.name);
  }
  return InvalidArgument("--calendar: unknown calendar \"" + name + "\" (" + path +
                         " has: " + (known.empty() ? "none" : known) + ")");
}

Result<TimePoint> ParseFlagTime(const std::string& flag, const std::string& text) {
  auto t = ticketing::ParseRfc3339(text);
  if (!t.ok()) return InvalidArgument(flag + ": " + t.status().message());
  return t;
}

int Due(CommandContext& ctx, const SlaArgs& args) {
  if (args.business_minutes < 0) {
    return ctx.Fail(InvalidArgument("--business-minutes: must be >= 0"));
  }
  auto cal = LoadCalendar(ctx, args.calendar);
  if (!cal.ok()) return ctx.Fail(cal.status());
  auto from = ParseFlagTime("--from", args.from);
  if (!from.ok()) return ctx.Fail(from.status());
  const TimePoint due = (*cal)->AddBusinessMinutes(*from, args.business_minutes);
  if (due == TimePoint::max()) {
    return ctx.Fail(FailedPrecondition("calendar " + args.calendar +
                                       " has no business time in the next 200 years"));
  }
  const std::string text = (*cal)->FormatRfc3339(due);
  if (ctx.json()) {
    ctx.PrintJson({{"calendar", args.calendar},
                   {"from", args.from},
                   {"business_minutes", args.business_minutes},
                   {"due", text}});
  } else {
    ctx.out() << text << '\n';
  }
  return kExitOk;
}

int Between(CommandContext& ctx, const SlaArgs& args) {
  auto cal = LoadCalendar(ctx, args.calendar);
  if (!cal.ok()) return ctx.Fail(cal.status());
  auto from = ParseFlagTime("--from", args.from);
  if (!from.ok()) return ctx.Fail(from.status());
  auto to = ParseFlagTime("--to", args.to);
  if (!to.ok()) return ctx.Fail(to.status());
  if (*to < *from) return ctx.Fail(InvalidArgument("--to: must not be before --from"));
  const int64_t minutes = (*cal)->BusinessMinutesBetween(*from, *to);
  if (ctx.json()) {
    ctx.PrintJson({{"calendar", args.calendar},
                   {"from", args.from},
                   {"to", args.to},
                   {"business_minutes", minutes}});
  } else {
    ctx.out() << minutes << '\n';
  }
  return kExitOk;
}

}  // namespace

void RegisterSlaCommands(CLI::App& kefuctl, CommandContext& ctx) {
  CLI::App* sla =
      kefuctl.add_subcommand("sla", "Business-hours calendar arithmetic ([sla] config)")
          ->require_subcommand(1);
  auto args = std::make_shared<SlaArgs>();

  CLI::App* due = sla->add_subcommand("due", "Instant when N business minutes after --from end");
  due->add_option("--calendar", args->calendar, "Calendar name ([[sla.calendars]] name)")
      ->required();
  due->add_option("--from", args->from, "Start, RFC 3339 (2026-10-09T17:00:00+08:00)")->required();
  due->add_option("--business-minutes", args->business_minutes, "Business minutes to add")
      ->required();
  due->callback([&ctx, args] { ctx.SetAction([&ctx, args] { return Due(ctx, *args); }); });

  CLI::App* between = sla->add_subcommand("between", "Business minutes in [--from, --to)");
  between->add_option("--calendar", args->calendar, "Calendar name")->required();
  between->add_option("--from", args->from, "Start, RFC 3339")->required();
  between->add_option("--to", args->to, "End, RFC 3339")->required();
  between->callback([&ctx, args] { ctx.SetAction([&ctx, args] { return Between(ctx, *args); }); });
}

}  // namespace kefu::tools
