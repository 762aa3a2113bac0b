#include "tools/sla_commands.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace kefu::tools {
namespace {

constexpr char kConfig[] = R"(
[[sla.calendars]]
name = "cn-office"
time_zone = "Asia/Shanghai"
mon = ["09:00-12:00", "13:30-18:00"]
tue = ["09:00-12:00", "13:30-18:00"]
wed = ["09:00-12:00", "13:30-18:00"]
thu = ["09:00-12:00", "13:30-18:00"]
fri = ["09:00-12:00", "13:30-18:00"]
holidays = ["2026-10-01..2026-10-07"]
working_days = [{ date = "2026-10-10", hours = ["09:00-12:00", "13:30-18:00"] }]
)";

struct KefuctlRun {
  int code;
  std::string out;
  std::string err;
};

KefuctlRun Kefuctl(std::vector<std::string> args) {
  kefu::testing::TempDir dir;
  const std::string path = dir.File("kefud.toml");
  std::ofstream(path) << kConfig;
  std::ostringstream out, err;
  FakeClock clock;
  CommandContext ctx(out, err, clock);
  CLI::App cli("kefuctl", "kefuctl");
  cli.add_option("--config,-c", ctx.source().path);
  cli.add_flag("--json", ctx.json_flag());
  cli.fallthrough();
  RegisterSlaCommands(cli, ctx);
  std::vector<std::string> argv = {"kefuctl"};
  for (auto& a : args)
    argv.push_back(a == "FILE" ? path : a);
  std::vector<const char*> cargs;
  for (auto& a : argv)
    cargs.push_back(a.c_str());
  try {
    cli.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::ParseError& e) {
    return {kExitUsage, out.str(), e.what()};
  }
  const int code = ctx.RunAction();
  return {code, out.str(), err.str()};
}

TEST(KefuctlSla, DuePrintsTheInstantInTheCalendarZone) {
  KefuctlRun r = Kefuctl({"sla", "due", "--config", "FILE", "--calendar", "cn-office", "--from",
                          "2026-10-09T17:00:00+08:00", "--business-minutes", "120"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "2026-10-10T10:00:00+08:00\n");
  r = Kefuctl({"sla", "due", "--config", "FILE", "--calendar", "cn-office", "--from",
               "2026-09-30T09:30:00Z", "--business-minutes", "60"});
  EXPECT_EQ(r.out, "2026-10-08T09:30:00+08:00\n");  // 17:30 Shanghai + 60: holiday week skipped
}

TEST(KefuctlSla, BetweenPrintsBusinessMinutes) {
  KefuctlRun r = Kefuctl({"sla", "between", "--config", "FILE", "--calendar", "cn-office", "--from",
                          "2026-10-09T17:00:00+08:00", "--to", "2026-10-10T10:00:00+08:00"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "120\n");
}

TEST(KefuctlSla, BadInputIsAUsageErrorNamingTheFlag) {
  KefuctlRun r = Kefuctl({"sla", "due", "--config", "FILE", "--calendar", "nope", "--from",
                          "2026-10-09T17:00:00+08:00", "--business-minutes", "1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--calendar: unknown calendar \"nope\""), std::string::npos) << r.err;
  r = Kefuctl({"sla", "between", "--config", "FILE", "--calendar", "cn-office", "--from",
               "yesterday", "--to", "2026-10-10T10:00:00+08:00"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--from:"), std::string::npos) << r.err;
  r = Kefuctl({"sla", "due", "--calendar", "cn-office", "--from", "2026-10-09T17:00:00+08:00",
               "--business-minutes", "1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--config"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kefu::tools
