// The [sla] configuration of ticketing as a typed struct (read from TOML by app/config_sla.cc),
// and the function that validates it into calendars and the ordered policy set.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "core/result.h"
#include "ticketing/calendar.h"
#include "ticketing/sla.h"
#include "ticketing/ticket.h"
#include "ticketing/ticket_service.h"

namespace kefu::ticketing {

struct SlaConfig {
  // [[sla.calendars]]: business-hours calendars, referenced by name from policies.
  std::vector<CalendarSpec> calendars;
  // [[sla.policies]]: ordered; the first whose conditions match a ticket applies.
  std::vector<SlaPolicy> policies;
  // [[sla.auto_priority]]: first-message keyword rules (e.g. 紧急 / 投诉 / 无法登录 -> high).
  std::vector<AutoPriorityRule> auto_priority;
  // sla.reopen_window: a customer message this long after `solved` opens a follow-up ticket.
  std::chrono::seconds reopen_window = std::chrono::hours(24 * 7);
};

// Builds every calendar and the policy set. InvalidArgument naming the field
// ("sla.calendars[0]: calendar cn-office: wed[0]: \"18:00-09:00\" ends before it starts ...").
Result<std::shared_ptr<const SlaPolicySet>> BuildSlaPolicySet(const SlaConfig& config);

// The service options the config implies.
TicketServiceOptions ServiceOptionsFrom(const SlaConfig& config);

}  // namespace kefu::ticketing
