#include "server/metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <string>

namespace kefu::server {

HttpResponse MetricsResponse(prometheus::Registry& registry) {
  prometheus::TextSerializer serializer;
  HttpResponse response = HttpResponse::Text(200, serializer.Serialize(registry.Collect()));
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return response;
}

void RegisterBuildInfo(prometheus::Registry& registry, std::string_view version) {
  prometheus::BuildGauge()
      .Name("kefu_build_info")
      .Help("Build information; the value is always 1")
      .Register(registry)
      .Add({{"version", std::string(version)}})
      .Set(1);
}

}  // namespace kefu::server
