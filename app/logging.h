// Process-wide logging setup shared by kefud and kefuctl.
#pragma once

#include <string_view>

namespace kefu::app {

// Makes spdlog's default logger write to stderr (no colours, so journald and tests read it
// plainly) with an ISO timestamp, at `level` (a LogConfig::level name).
void SetUpLogging(std::string_view name, std::string_view level);

}  // namespace kefu::app
