#include "ticketing/sla.h"

#include <algorithm>
#include <utility>

namespace kefu::ticketing {
namespace {

constexpr std::array<std::string_view, kSlaMetricCount> kMetricNames = {
    "first_response", "next_response", "periodic_update", "resolution"};
constexpr std::array<std::string_view, 4> kStateNames = {"active", "paused", "fulfilled",
                                                         "breached"};

using Ms = std::chrono::milliseconds;

struct Segment {
  TimePoint from;
  TimePoint to;  // max() = open-ended
};

// (instant, status) in time order; the first entry is the status at creation.
using StatusTimeline = std::vector<std::pair<TimePoint, TicketStatus>>;

StatusTimeline BuildTimeline(const Ticket& ticket, const std::vector<TicketEvent>& events) {
  StatusTimeline timeline;
  for (const auto& e : events) {
    if (e.kind == EventKind::kCreated) {
      auto s = ParseTicketStatus(e.after, "status");
      timeline.emplace_back(e.at, s.ok() ? *s : TicketStatus::kNew);
    } else if (e.kind == EventKind::kFieldChanged && e.field == "status") {
      auto s = ParseTicketStatus(e.after, "status");
      if (s.ok()) timeline.emplace_back(e.at, *s);
    }
  }
  if (timeline.empty()) timeline.emplace_back(ticket.created_at, ticket.status);
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return timeline;
}

// A set of statuses as bits (1 << status): evaluated per metric on every operation, so no heap.
class StatusSet {
 public:
  explicit StatusSet(const std::set<TicketStatus>& statuses) {
    for (TicketStatus s : statuses)
      insert(s);
  }
  void insert(TicketStatus s) { bits_ |= 1u << static_cast<unsigned>(s); }
  bool contains(TicketStatus s) const { return (bits_ >> static_cast<unsigned>(s)) & 1u; }

 private:
  unsigned bits_ = 0;
};

// The spans from `start` on during which the status is not in `paused`.
std::vector<Segment> ActiveSegments(const StatusTimeline& timeline, TimePoint start,
                                    const StatusSet& paused) {
  std::vector<Segment> out;
  TicketStatus current = timeline.front().second;
  size_t i = 0;
  while (i < timeline.size() && timeline[i].first <= start)
    current = timeline[i++].second;
  TimePoint cursor = start;
  bool active = !paused.contains(current);
  for (; i < timeline.size(); ++i) {
    const bool next_active = !paused.contains(timeline[i].second);
    if (active && !next_active) {
      if (timeline[i].first > cursor) out.push_back({cursor, timeline[i].first});
    } else if (!active && next_active) {
      cursor = timeline[i].first;
    }
    active = next_active;
  }
  if (active) out.push_back({cursor, TimePoint::max()});
  return out;
}

class Measure {
 public:
  Measure(bool business, const BusinessCalendar* cal) : business_(business && cal), cal_(cal) {}

  Ms Between(TimePoint a, TimePoint b) const {
    if (b <= a) return Ms(0);
    return business_ ? cal_->BusinessBetween(a, b) : std::chrono::duration_cast<Ms>(b - a);
  }
  TimePoint Add(TimePoint a, Ms d) const { return business_ ? cal_->AddBusiness(a, d) : a + d; }
  // Unpaused elapsed time from the segments until `until`.
  Ms Elapsed(const std::vector<Segment>& segs, TimePoint until) const {
    Ms sum(0);
    for (const auto& s : segs) {
      if (s.from >= until) break;
      sum += Between(s.from, std::min(s.to, until));
    }
    return sum;
  }
  // The instant at which `amount` of unpaused time has elapsed; max() if the clock is paused
  // before that.
  TimePoint At(const std::vector<Segment>& segs, Ms amount) const {
    Ms left = amount;
    for (const auto& s : segs) {
      if (left <= Ms(0)) return s.from;
      if (s.to == TimePoint::max()) return Add(s.from, left);
      const Ms span = Between(s.from, s.to);
      if (left <= span) return Add(s.from, left);
      left -= span;
    }
    return TimePoint::max();
  }

 private:
  bool business_;
  const BusinessCalendar* cal_;
};

struct Span {
  TimePoint start;
  std::optional<TimePoint> end;
};

}  // namespace

std::string_view ToString(SlaMetric m) {
  return kMetricNames[static_cast<size_t>(m)];
}
std::string_view ToString(MetricState s) {
  return kStateNames[static_cast<size_t>(s)];
}

Result<SlaMetric> ParseSlaMetric(std::string_view text, std::string_view field) {
  for (size_t i = 0; i < kMetricNames.size(); ++i) {
    if (kMetricNames[i] == text) return static_cast<SlaMetric>(i);
  }
  std::string msg(field);
  msg.append(": unknown SLA metric \"")
      .append(text)
      .append("\" (expected first_response, next_response, periodic_update or resolution)");
  return InvalidArgument(std::move(msg));
}

std::chrono::minutes MetricTarget::WarningOffset() const {
  if (warning) return *warning;
  return std::max(std::chrono::minutes(1), std::chrono::minutes(target.count() / 5));
}

std::array<std::set<TicketStatus>, kSlaMetricCount> SlaPolicy::DefaultPauseStates() {
  return {std::set<TicketStatus>{}, std::set<TicketStatus>{},
          std::set<TicketStatus>{TicketStatus::kPending},
          std::set<TicketStatus>{TicketStatus::kPending, TicketStatus::kOnHold}};
}

bool SlaPolicy::Matches(const Ticket& t) const {
  auto in = [](const auto& list, const auto& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  if (!in(channels, t.channel) || !in(groups, t.group) || !in(priorities, t.priority)) {
    return false;
  }
  if (customer_tags.empty()) return true;
  return std::any_of(customer_tags.begin(), customer_tags.end(), [&](const auto& tag) {
    return std::find(t.customer_tags.begin(), t.customer_tags.end(), tag) != t.customer_tags.end();
  });
}

Result<std::shared_ptr<const SlaPolicySet>> SlaPolicySet::Create(
    std::vector<SlaPolicy> policies,
    std::vector<std::shared_ptr<const BusinessCalendar>> calendars) {
  auto set = std::make_shared<SlaPolicySet>();
  for (size_t i = 0; i < calendars.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (calendars[j]->name() == calendars[i]->name()) {
        return InvalidArgument("sla.calendars[" + std::to_string(i) + "].name: duplicate \"" +
                               calendars[i]->name() + "\"");
      }
    }
  }
  set->calendars_ = std::move(calendars);
  for (size_t i = 0; i < policies.size(); ++i) {
    const SlaPolicy& p = policies[i];
    const std::string field = "sla.policies[" + std::to_string(i) + "]";
    if (p.name.empty()) return InvalidArgument(field + ".name: must not be empty");
    for (size_t j = 0; j < i; ++j) {
      if (policies[j].name == p.name) {
        return InvalidArgument(field + ".name: duplicate \"" + p.name + "\"");
      }
    }
    if (!p.calendar.empty() && set->FindCalendar(p.calendar) == nullptr) {
      return InvalidArgument(field + ".calendar: unknown calendar \"" + p.calendar + "\"");
    }
    for (size_t pr = 0; pr < 4; ++pr) {
      for (size_t m = 0; m < kSlaMetricCount; ++m) {
        const auto& t = p.targets[pr][m];
        if (!t) continue;
        const std::string tf = field + ".targets." + std::string(ToString(Priority(pr))) + "." +
                               std::string(ToString(SlaMetric(m)));
        if (t->target.count() <= 0) return InvalidArgument(tf + ": target must be > 0 minutes");
        if (t->warning && (t->warning->count() < 0 || *t->warning >= t->target)) {
          return InvalidArgument(tf + ": warning must be >= 0 and shorter than the target");
        }
        if (t->business_hours && p.calendar.empty()) {
          return InvalidArgument(field + ".calendar: required for business-hours targets");
        }
      }
    }
    for (size_t e = 0; e < p.escalations.size(); ++e) {
      const auto& a = p.escalations[e];
      if (a.kind == EscalationAction::Kind::kReassignGroup && a.group.empty()) {
        return InvalidArgument(field + ".escalations[" + std::to_string(e) +
                               "].group: required for reassign_group");
      }
    }
  }
  set->policies_ = std::move(policies);
  return std::shared_ptr<const SlaPolicySet>(std::move(set));
}

const SlaPolicy* SlaPolicySet::Match(const Ticket& ticket) const {
  for (const auto& p : policies_) {
    if (p.Matches(ticket)) return &p;
  }
  return nullptr;
}

const SlaPolicy* SlaPolicySet::Find(std::string_view name) const {
  for (const auto& p : policies_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const BusinessCalendar* SlaPolicySet::FindCalendar(std::string_view name) const {
  for (const auto& c : calendars_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

const BusinessCalendar* SlaPolicySet::CalendarFor(const SlaPolicy& policy) const {
  return policy.calendar.empty() ? nullptr : FindCalendar(policy.calendar);
}

std::vector<MetricInstance> EvaluateSla(const Ticket& ticket,
                                        const std::vector<TicketEvent>& events,
                                        const SlaPolicy& policy, const BusinessCalendar* calendar,
                                        TimePoint now) {
  const StatusTimeline timeline = BuildTimeline(ticket, events);
  const TicketStatus current = timeline.back().second;

  // Spans per metric from the message events. Bot replies and internal notes never count.
  std::array<std::vector<Span>, kSlaMetricCount> spans;
  // (metric name, instance) of the recorded warnings and breaches; the names point into `events`.
  std::vector<std::pair<std::string_view, int64_t>> warned, breached;
  spans[static_cast<size_t>(SlaMetric::kFirstResponse)].push_back({ticket.created_at, {}});
  bool replied = false;
  auto& next = spans[static_cast<size_t>(SlaMetric::kNextResponse)];
  auto& periodic = spans[static_cast<size_t>(SlaMetric::kPeriodicUpdate)];
  for (const auto& e : events) {
    switch (e.kind) {
      case EventKind::kAgentReply: {
        auto& first = spans[static_cast<size_t>(SlaMetric::kFirstResponse)][0];
        if (!first.end && e.at >= first.start) first.end = e.at;
        if (!next.empty() && !next.back().end) next.back().end = e.at;
        if (!periodic.empty() && !periodic.back().end) periodic.back().end = e.at;
        periodic.push_back({e.at, {}});
        replied = true;
        break;
      }
      case EventKind::kCustomerMessage:
        if (replied && (next.empty() || next.back().end)) next.push_back({e.at, {}});
        break;
      case EventKind::kSlaWarning:
        warned.emplace_back(e.field, e.instance);
        break;
      case EventKind::kSlaBreach:
        breached.emplace_back(e.field, e.instance);
        break;
      default:
        break;
    }
  }
  if (current == TicketStatus::kSolved || current == TicketStatus::kClosed) {
    std::optional<TimePoint> solved;
    for (const auto& [at, s] : timeline) {
      if (s == TicketStatus::kSolved) solved = at;
    }
    spans[static_cast<size_t>(SlaMetric::kResolution)].push_back(
        {ticket.created_at, solved.value_or(timeline.back().first)});
  } else {
    spans[static_cast<size_t>(SlaMetric::kResolution)].push_back({ticket.created_at, {}});
  }

  std::vector<MetricInstance> out;
  for (size_t m = 0; m < kSlaMetricCount; ++m) {
    const auto& target = policy.Target(ticket.priority, SlaMetric(m));
    if (!target) continue;
    StatusSet paused(policy.pause_states[m]);
    paused.insert(TicketStatus::kSolved);
    paused.insert(TicketStatus::kClosed);
    const Measure measure(target->business_hours, calendar);
    const Ms target_ms = target->target;
    const Ms warn_ms = std::max(Ms(0), target_ms - Ms(target->WarningOffset()));
    const std::string_view metric_name = ToString(SlaMetric(m));
    const bool numbered =
        SlaMetric(m) == SlaMetric::kNextResponse || SlaMetric(m) == SlaMetric::kPeriodicUpdate;
    for (size_t k = 0; k < spans[m].size(); ++k) {
      const Span& span = spans[m][k];
      MetricInstance mi;
      mi.metric = SlaMetric(m);
      mi.instance = numbered ? static_cast<int64_t>(k) + 1 : 0;
      mi.start = span.start;
      mi.fulfilled_at = span.end;
      mi.target = *target;
      const auto segs = ActiveSegments(timeline, span.start, paused);
      mi.due = measure.At(segs, target_ms);
      mi.warn_at = measure.At(segs, warn_ms);
      const TimePoint until = span.end.value_or(now);
      const Ms elapsed = measure.Elapsed(segs, std::max(until, span.start));
      mi.actual_minutes = elapsed.count() / 60000;
      if (span.end) {
        mi.breached = mi.due != TimePoint::max() && *span.end > mi.due;
      } else {
        mi.breached = mi.due != TimePoint::max() && now >= mi.due;
      }
      const Ms late = elapsed - target_ms;
      mi.late_by_minutes = mi.breached ? std::max<int64_t>(0, (late.count() + 59999) / 60000) : 0;
      if (mi.breached) {
        mi.state = MetricState::kBreached;
      } else if (span.end) {
        mi.state = MetricState::kFulfilled;
      } else if (paused.contains(current) || mi.due == TimePoint::max()) {
        mi.state = MetricState::kPaused;
      } else {
        mi.state = MetricState::kActive;
      }
      const std::pair<std::string_view, int64_t> key(metric_name, mi.instance);
      mi.warned = std::find(warned.begin(), warned.end(), key) != warned.end();
      mi.breach_recorded = std::find(breached.begin(), breached.end(), key) != breached.end();
      out.push_back(mi);
    }
  }
  return out;
}

SlaDue DueAt(const std::vector<MetricInstance>& metrics, TimePoint now) {
  SlaDue due;
  bool warning = false;
  bool breach = false;
  for (const auto& mi : metrics) {
    const bool open = !mi.fulfilled_at.has_value();
    if (open && !mi.warned && mi.warn_at <= now) due.warnings.push_back(&mi);
    if (!mi.breach_recorded && mi.due <= now && (open || *mi.fulfilled_at > mi.due)) {
      due.breaches.push_back(&mi);
    }
    if (open) {
      auto consider = [&](TimePoint t) {
        if (t > now && t != TimePoint::max() && (!due.next_wake || t < *due.next_wake)) {
          due.next_wake = t;
        }
      };
      if (!mi.warned) consider(mi.warn_at);
      if (!mi.breach_recorded) consider(mi.due);
      if (mi.warn_at <= now) warning = true;
    }
    if (mi.breached) breach = true;
  }
  auto by_instant = [](const MetricInstance* a, const MetricInstance* b) {
    return a->warn_at < b->warn_at;
  };
  std::stable_sort(due.warnings.begin(), due.warnings.end(), by_instant);
  std::stable_sort(
      due.breaches.begin(), due.breaches.end(),
      [](const MetricInstance* a, const MetricInstance* b) { return a->due < b->due; });
  due.state = breach ? "breached" : (warning ? "warning" : "ok");
  return due;
}

}  // namespace kefu::ticketing
