// [sla] configuration:
//
//   [sla]
//   reopen_window = "7d"
//
//   [[sla.calendars]]
//   name = "cn-office"
//   time_zone = "Asia/Shanghai"
//   mon = ["09:00-12:00", "13:30-18:00"]      # likewise tue ... sun; [] = closed
//   holidays = ["2026-10-01..2026-10-07", "2026-01-01"]
//   working_days = [{ date = "2026-10-10", hours = ["09:00-12:00", "13:30-18:00"] }]
//
//   [[sla.policies]]
//   name = "default"
//   calendar = "cn-office"
//   channels = []  groups = []  priorities = []  customer_tags = []   # conditions; [] = any
//   pause = { periodic_update = ["pending"], resolution = ["pending", "on_hold"] }
//   targets = [{ priority = "urgent", metric = "first_response", minutes = 60,
//                business_hours = true, warning_minutes = 10 }]
//   escalations = [{ on = "breach", metric = "first_response", action = "raise_priority",
//                    priority = "urgent" },
//                  { on = "warning", action = "notify", notify = "supervisors" },
//                  { on = "breach", action = "reassign_group", group = "l2" }]
//
//   [[sla.auto_priority]]
//   keywords = ["紧急", "投诉", "无法登录"]
//   channels = []
//   priority = "high"
#include "app/config_sla.h"

#include <string>
#include <utility>

namespace kefu::app {
namespace {

constexpr std::array<const char*, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

template <typename T>
bool Parsed(const ConfigSection& s, std::string_view key, Result<T> r, T& out) {
  if (!r.ok()) {
    s.Error(key, r.status().message());
    return false;
  }
  out = std::move(*r);
  return true;
}

template <typename T>
void ParsedList(const ConfigSection& s, std::string_view key,
                Result<T> (*parse)(std::string_view, std::string_view), std::vector<T>& out) {
  std::vector<std::string> names;
  s.StringArray(key, names);
  for (const auto& n : names) {
    T v{};
    if (Parsed(s, key, parse(n, "value"), v)) out.push_back(v);
  }
}

ticketing::CalendarSpec ReadCalendar(const ConfigSection& s) {
  ticketing::CalendarSpec spec;
  s.NonEmptyString("name", spec.name);
  s.String("time_zone", spec.time_zone);
  for (size_t d = 0; d < 7; ++d)
    s.StringArray(kDays[d], spec.weekly[d]);
  s.StringArray("holidays", spec.holidays);
  for (const auto& w : s.TableArray("working_days")) {
    ticketing::CalendarSpec::WorkingDay day;
    w.NonEmptyString("date", day.date);
    w.StringArray("hours", day.hours);
    spec.working_days.push_back(std::move(day));
  }
  return spec;
}

ticketing::SlaPolicy ReadPolicy(const ConfigSection& s) {
  using ticketing::SlaMetric;
  ticketing::SlaPolicy p;
  s.NonEmptyString("name", p.name);
  s.String("calendar", p.calendar);
  s.StringArray("channels", p.channels);
  s.StringArray("groups", p.groups);
  s.StringArray("customer_tags", p.customer_tags);
  ParsedList<ticketing::Priority>(s, "priorities", &ticketing::ParsePriority, p.priorities);
  const ConfigSection pause = s.Table("pause");
  for (size_t m = 0; m < ticketing::kSlaMetricCount; ++m) {
    const std::string metric(ticketing::ToString(SlaMetric(m)));
    if (!pause.Has(metric)) continue;
    std::vector<ticketing::TicketStatus> states;
    ParsedList<ticketing::TicketStatus>(pause, metric, &ticketing::ParseTicketStatus, states);
    p.pause_states[m] = {states.begin(), states.end()};
  }
  for (const auto& t : s.TableArray("targets")) {
    std::string priority, metric;
    int64_t minutes = 0;
    int64_t warning = -1;
    ticketing::MetricTarget target;
    t.NonEmptyString("priority", priority);
    t.NonEmptyString("metric", metric);
    t.Int64("minutes", minutes, 1, 525'600);
    t.Bool("business_hours", target.business_hours);
    t.Int64("warning_minutes", warning, 0, 525'600);
    ticketing::Priority pr{};
    SlaMetric m{};
    if (!Parsed(t, "priority", ticketing::ParsePriority(priority, "priority"), pr) ||
        !Parsed(t, "metric", ticketing::ParseSlaMetric(metric, "metric"), m) || minutes <= 0) {
      if (minutes <= 0 && !t.Has("minutes")) t.Error("minutes", "required");
      continue;
    }
    target.target = std::chrono::minutes(minutes);
    if (warning >= 0) target.warning = std::chrono::minutes(warning);
    p.targets[static_cast<size_t>(pr)][static_cast<size_t>(m)] = target;
  }
  for (const auto& e : s.TableArray("escalations")) {
    ticketing::EscalationAction a;
    e.Enum("on", a.on,
           {{"warning", ticketing::EscalationAction::On::kWarning},
            {"breach", ticketing::EscalationAction::On::kBreach}});
    e.Enum("action", a.kind,
           {{"raise_priority", ticketing::EscalationAction::Kind::kRaisePriority},
            {"reassign_group", ticketing::EscalationAction::Kind::kReassignGroup},
            {"notify", ticketing::EscalationAction::Kind::kNotify}});
    std::string metric, priority;
    e.String("metric", metric);
    e.String("priority", priority);
    e.String("group", a.group);
    e.String("notify", a.notify);
    SlaMetric m{};
    if (!metric.empty() && Parsed(e, "metric", ticketing::ParseSlaMetric(metric, "metric"), m)) {
      a.metric = m;
    }
    ticketing::Priority pr{};
    if (!priority.empty() &&
        Parsed(e, "priority", ticketing::ParsePriority(priority, "priority"), pr)) {
      a.priority = pr;
    }
    p.escalations.push_back(std::move(a));
  }
  return p;
}

}  // namespace

void ReadSlaSection(const ConfigSection& root, ticketing::SlaConfig& out) {
  const ConfigSection sla = root.Table("sla");
  std::chrono::milliseconds window = out.reopen_window;
  sla.Duration("reopen_window", window, std::chrono::minutes(1), std::chrono::hours(24 * 365));
  out.reopen_window = std::chrono::duration_cast<std::chrono::seconds>(window);
  const auto calendars = sla.TableArray("calendars");
  for (const auto& c : calendars)
    out.calendars.push_back(ReadCalendar(c));
  for (const auto& p : sla.TableArray("policies"))
    out.policies.push_back(ReadPolicy(p));
  for (const auto& r : sla.TableArray("auto_priority")) {
    ticketing::AutoPriorityRule rule;
    r.StringArray("keywords", rule.keywords);
    r.StringArray("channels", rule.channels);
    std::string priority = "high";
    r.String("priority", priority);
    Parsed(r, "priority", ticketing::ParsePriority(priority, "priority"), rule.priority);
    if (rule.keywords.empty()) r.Error("keywords", "must not be empty");
    out.auto_priority.push_back(std::move(rule));
  }
  // Cross-field validation (intervals, zones, holidays, policy references).
  for (size_t i = 0; i < out.calendars.size(); ++i) {
    auto cal = ticketing::BusinessCalendar::Create(out.calendars[i]);
    if (!cal.ok()) root.Error("sla.calendars[" + std::to_string(i) + "]", cal.status().message());
  }
  auto set = ticketing::BuildSlaPolicySet(out);
  const Status status = set.status();
  const std::string& msg = status.message();
  if (!set.ok() && msg.rfind("sla.calendars[", 0) != 0) {
    // Policy messages start with the key ("sla.policies[1].calendar: unknown calendar ...").
    const size_t colon = msg.find(": ");
    if (colon == std::string::npos) {
      root.Error("sla", msg);
    } else {
      root.Error(msg.substr(0, colon), msg.substr(colon + 2));
    }
  }
}

namespace {}  // namespace

void ReadSlaConfig(const ConfigSection& root, Config& config) {
  ReadSlaSection(root, config.sla);
}

}  // namespace kefu::app
