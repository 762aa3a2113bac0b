// Prometheus helpers for the HTTP layer.
#pragma once

#include <prometheus/registry.h>

#include <string_view>

#include "core/http.h"

namespace kefu::server {

// 200 text/plain in the Prometheus text exposition format (prometheus-cpp TextSerializer) with
// every family in `registry`. Safe to call from any thread; the app registers it as /metrics.
HttpResponse MetricsResponse(prometheus::Registry& registry);

// Registers the gauge kefu_build_info{version="<version>"} = 1 (idempotent per registry).
void RegisterBuildInfo(prometheus::Registry& registry, std::string_view version);

}  // namespace kefu::server
