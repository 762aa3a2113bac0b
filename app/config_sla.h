// [sla] section reader for ticketing: calendars, policies, auto-priority rules (app/config_sla.cc).
#pragma once

#include "app/config.h"
#include "app/config_reader.h"
#include "ticketing/sla_config.h"

namespace kefu::app {

// Reads root.[sla] into `out`, recording one error per bad key (including calendar and policy
// validation: "config: sla.calendars[0].wed: \"18:00-09:00\" ends before it starts").
void ReadSlaSection(const ConfigSection& root, ticketing::SlaConfig& out);

// The SectionReader for kSectionReaders in app/config.cc: reads into Config::sla.
void ReadSlaConfig(const ConfigSection& root, Config& config);

}  // namespace kefu::app
