#include "ticketing/sla_config.h"

namespace kefu::ticketing {

Result<std::shared_ptr<const SlaPolicySet>> BuildSlaPolicySet(const SlaConfig& config) {
  std::vector<std::shared_ptr<const BusinessCalendar>> calendars;
  for (size_t i = 0; i < config.calendars.size(); ++i) {
    auto cal = BusinessCalendar::Create(config.calendars[i]);
    if (!cal.ok()) {
      return InvalidArgument("sla.calendars[" + std::to_string(i) + "]: " + cal.status().message());
    }
    calendars.push_back(*cal);
  }
  return SlaPolicySet::Create(config.policies, std::move(calendars));
}

TicketServiceOptions ServiceOptionsFrom(const SlaConfig& config) {
  TicketServiceOptions options;
  options.reopen_window = config.reopen_window;
  options.auto_priority = config.auto_priority;
  return options;
}

}  // namespace kefu::ticketing
