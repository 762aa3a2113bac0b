#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <string>

#include "app/config_reader.h"
#include "app/config_sla.h"

namespace kefu::app {
namespace {

struct Read {
  ticketing::SlaConfig sla;
  std::vector<std::string> errors;
};

Read ReadToml(std::string_view text) {
  toml::table root = toml::parse(text);
  ConfigReader reader(root);
  Read r;
  ReadSlaSection(reader.root(), r.sla);
  reader.Finish();
  r.errors = reader.errors();
  return r;
}

bool HasError(const Read& r, std::string_view needle) {
  for (const auto& e : r.errors) {
    if (e.find(needle) != std::string::npos) return true;
  }
  return false;
}

constexpr char kGood[] = R"(
[sla]
reopen_window = "3d"

[[sla.calendars]]
name = "cn-office"
time_zone = "Asia/Shanghai"
mon = ["09:00-12:00", "13:30-18:00"]
tue = ["09:00-12:00", "13:30-18:00"]
holidays = ["2026-10-01..2026-10-07", "2026-01-01"]
working_days = [{ date = "2026-10-10", hours = ["09:00-12:00", "13:30-18:00"] }]

[[sla.policies]]
name = "vip"
calendar = "cn-office"
customer_tags = ["vip"]
priorities = ["urgent", "high"]
pause = { resolution = ["pending"] }
targets = [{ priority = "urgent", metric = "first_response", minutes = 60, warning_minutes = 10 },
           { priority = "high", metric = "resolution", minutes = 480, business_hours = false }]
escalations = [{ on = "breach", metric = "first_response", action = "raise_priority" },
               { on = "warning", action = "notify", notify = "supervisors" },
               { on = "breach", action = "reassign_group", group = "l2" }]

[[sla.auto_priority]]
keywords = ["紧急", "投诉", "无法登录"]
priority = "high"
)";

TEST(SlaConfigReader, ReadsCalendarsPoliciesAndAutoPriority) {
  Read r = ReadToml(kGood);
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.sla.calendars.size(), 1u);
  EXPECT_EQ(r.sla.calendars[0].weekly[1][1], "13:30-18:00");
  EXPECT_EQ(r.sla.calendars[0].working_days[0].date, "2026-10-10");
  ASSERT_EQ(r.sla.policies.size(), 1u);
  const auto& p = r.sla.policies[0];
  EXPECT_EQ(p.customer_tags, std::vector<std::string>{"vip"});
  ASSERT_TRUE(p.Target(ticketing::Priority::kUrgent, ticketing::SlaMetric::kFirstResponse));
  EXPECT_EQ(p.Target(ticketing::Priority::kUrgent, ticketing::SlaMetric::kFirstResponse)
                ->WarningOffset()
                .count(),
            10);
  EXPECT_FALSE(
      p.Target(ticketing::Priority::kHigh, ticketing::SlaMetric::kResolution)->business_hours);
  EXPECT_EQ(p.pause_states[3].size(), 1u);
  EXPECT_EQ(p.escalations.size(), 3u);
  EXPECT_EQ(r.sla.auto_priority[0].keywords.size(), 3u);
  EXPECT_EQ(r.sla.reopen_window, std::chrono::hours(72));
  EXPECT_TRUE(ticketing::BuildSlaPolicySet(r.sla).ok());
}

TEST(SlaConfigReader, BadCalendarsAreStartupErrorsNamingTheKey) {
  Read r = ReadToml(R"(
[[sla.calendars]]
name = "bad"
time_zone = "Mars/Olympus"
mon = ["09:00-12:00"]
[[sla.calendars]]
name = "bad2"
wed = ["18:00-09:00"]
[[sla.calendars]]
name = "bad3"
mon = ["25:00-26:00"]
[[sla.calendars]]
name = "bad4"
mon = ["09:00-18:00"]
holidays = ["2026-10-01..2026-10-07", "2026-10-05"]
)");
  EXPECT_TRUE(HasError(r, "sla.calendars[0]: calendar bad: time_zone: unknown time zone"));
  EXPECT_TRUE(HasError(r, "sla.calendars[1]: calendar bad2: wed[0]"));
  EXPECT_TRUE(HasError(r, "sla.calendars[2]: calendar bad3: mon[0]"));
  EXPECT_TRUE(HasError(r, "sla.calendars[3]: calendar bad4: holidays[1]"));
}

TEST(SlaConfigReader, BadPoliciesNameTheirKeys) {
  Read r = ReadToml(R"(
[[sla.policies]]
name = "p"
calendar = "nowhere"
priorities = ["critical"]
targets = [{ priority = "urgent", metric = "first_reply", minutes = 60 }]
escalations = [{ on = "later", action = "raise_priority" }]
)");
  EXPECT_TRUE(HasError(r, "sla.policies[0].priorities"));
  EXPECT_TRUE(HasError(r, "sla.policies[0].targets[0].metric"));
  EXPECT_TRUE(HasError(r, "sla.policies[0].escalations[0].on"));
  EXPECT_TRUE(HasError(r, "sla.policies[0].calendar: unknown calendar"));
}

TEST(SlaConfigReader, UnknownKeysAreReported) {
  Read r = ReadToml(R"(
[[sla.calendars]]
name = "c"
mon = ["09:00-18:00"]
monday = ["09:00-18:00"]
)");
  EXPECT_TRUE(HasError(r, "sla.calendars[0].monday"));
}

}  // namespace
}  // namespace kefu::app
