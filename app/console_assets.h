// The web console's static files (console/ in the source tree), embedded into kefud at build time
// by cmake/EmbedConsole.cmake, so the daemon stays one self-contained binary.
#pragma once

#include <span>
#include <string_view>

namespace kefu::app {

struct ConsoleAsset {
  std::string_view name;  // file name under console/, e.g. "index.html"
  std::string_view content_type;
  std::string_view body;
};

// Every embedded file (generated source: console_assets.cc in the build tree).
std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace kefu::app
