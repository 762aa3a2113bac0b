// SLA policies and deadline evaluation (spec §2), as pure functions over a ticket, its events,
// a policy, a calendar and an instant. Nothing here does I/O or reads a clock.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "ticketing/calendar.h"
#include "ticketing/ticket.h"

namespace kefu::ticketing {

enum class SlaMetric { kFirstResponse, kNextResponse, kPeriodicUpdate, kResolution };
inline constexpr size_t kSlaMetricCount = 4;
std::string_view ToString(SlaMetric metric);
Result<SlaMetric> ParseSlaMetric(std::string_view text, std::string_view field);

enum class MetricState { kActive, kPaused, kFulfilled, kBreached };
std::string_view ToString(MetricState state);

struct MetricTarget {
  std::chrono::minutes target{0};
  bool business_hours = true;  // false = calendar (wall-clock) time
  // Warn this long before the deadline; unset = 20% of the target, at least 1 minute.
  std::optional<std::chrono::minutes> warning;
  std::chrono::minutes WarningOffset() const;
};

struct EscalationAction {
  enum class On { kWarning, kBreach };
  enum class Kind { kRaisePriority, kReassignGroup, kNotify };
  On on = On::kBreach;
  std::optional<SlaMetric> metric;  // unset = any metric
  Kind kind = Kind::kNotify;
  std::optional<Priority> priority;  // kRaisePriority: the new priority (unset = one step up)
  std::string group;                 // kReassignGroup: the target group
  std::string notify;                // kNotify: who ("assignee", "supervisors", a robot name)
};

struct SlaPolicy {
  std::string name;
  std::string calendar;  // calendar name; required when any target uses business hours
  // Conditions: each empty list matches anything; all non-empty lists must match.
  std::vector<std::string> channels;
  std::vector<std::string> groups;
  std::vector<Priority> priorities;
  std::vector<std::string> customer_tags;  // any overlap with the ticket's customer tags
  // targets[priority][metric]; an unset metric is not measured.
  std::array<std::array<std::optional<MetricTarget>, kSlaMetricCount>, 4> targets;
  // Statuses that pause each metric (defaults from spec §2). solved/closed always stop the clock.
  std::array<std::set<TicketStatus>, kSlaMetricCount> pause_states = DefaultPauseStates();
  std::vector<EscalationAction> escalations;

  bool Matches(const Ticket& ticket) const;
  const std::optional<MetricTarget>& Target(Priority p, SlaMetric m) const {
    return targets[static_cast<size_t>(p)][static_cast<size_t>(m)];
  }
  static std::array<std::set<TicketStatus>, kSlaMetricCount> DefaultPauseStates();
};

// The ordered policy list with the calendars they name. Immutable once built; share freely.
class SlaPolicySet {
 public:
  // InvalidArgument naming the field for duplicate names, an unknown calendar, a zero target or
  // a warning offset not shorter than its target.
  static Result<std::shared_ptr<const SlaPolicySet>> Create(
      std::vector<SlaPolicy> policies,
      std::vector<std::shared_ptr<const BusinessCalendar>> calendars);

  // The first policy whose conditions match, or nullptr.
  const SlaPolicy* Match(const Ticket& ticket) const;
  const SlaPolicy* Find(std::string_view name) const;
  // The policy's calendar, or nullptr for a calendar-time-only policy.
  const BusinessCalendar* CalendarFor(const SlaPolicy& policy) const;
  const BusinessCalendar* FindCalendar(std::string_view name) const;
  const std::vector<SlaPolicy>& policies() const { return policies_; }
  const std::vector<std::shared_ptr<const BusinessCalendar>>& calendars() const {
    return calendars_;
  }

 private:
  std::vector<SlaPolicy> policies_;
  std::vector<std::shared_ptr<const BusinessCalendar>> calendars_;
};

// One measured span of a metric: first_response and resolution have instance 0; next_response
// and periodic_update count instances from 1 in the order they start.
struct MetricInstance {
  SlaMetric metric = SlaMetric::kFirstResponse;
  int64_t instance = 0;
  TimePoint start{};
  std::optional<TimePoint> fulfilled_at;
  MetricTarget target;
  TimePoint warn_at = TimePoint::max();  // max() while paused
  TimePoint due = TimePoint::max();      // max() while paused
  MetricState state = MetricState::kActive;
  int64_t actual_minutes = 0;  // elapsed (business or calendar) until fulfilment or now, unpaused
  bool breached = false;
  int64_t late_by_minutes = 0;   // elapsed beyond the target, 0 if within
  bool warned = false;           // a warning event exists for this instance
  bool breach_recorded = false;  // a breach event exists for this instance
};

// Evaluates every metric instance of `ticket` at `now` from its events (status changes, messages,
// replies; SLA events tell which warnings/breaches were already recorded). `calendar` may be null
// when no target uses business hours.
std::vector<MetricInstance> EvaluateSla(const Ticket& ticket,
                                        const std::vector<TicketEvent>& events,
                                        const SlaPolicy& policy, const BusinessCalendar* calendar,
                                        TimePoint now);

// What the engine should record at `now`: warnings and breaches due and not yet recorded (a
// warning only while the instance is unfulfilled), in instant order, and the next wake-up.
struct SlaDue {
  std::vector<const MetricInstance*> warnings;
  std::vector<const MetricInstance*> breaches;
  std::optional<TimePoint> next_wake;  // earliest future warn_at/due still to record
  std::string state = "ok";            // ok | warning | breached over unfulfilled + breached
};
SlaDue DueAt(const std::vector<MetricInstance>& metrics, TimePoint now);

}  // namespace kefu::ticketing
