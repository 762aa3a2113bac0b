// Configuration of one DingTalk internal-app robot ([[dingtalk.apps]], issue 4).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"

namespace kefu::channels::dingtalk {

enum class DingtalkMode { kHttp, kStream };

struct DingtalkAppConfig {
  std::string name;        // callbacks: POST /callback/dingtalk/<name>[/event]
  std::string app_key;     // AppKey / clientId; ReceiveId of event callbacks
  std::string app_secret;  // AppSecret: robot callback sign key, OpenAPI token, Stream open
  std::string robot_code;  // robotCode for OpenAPI sends (defaults to the callback's robotCode)
  DingtalkMode mode = DingtalkMode::kHttp;
  std::string token;    // event subscription Token (optional: empty disables /event)
  std::string aes_key;  // event subscription 43-char aes_key (required with token)
  std::string api_base = "https://api.dingtalk.com";
  std::string oapi_base = "https://oapi.dingtalk.com";
  int64_t max_timestamp_skew_s = 300;  // event callbacks (ms timestamps); 0 disables
  int robot_per_minute = 20;           // robot send budget (platform throttles above 20/min)
};

// Checks one app; errors "dingtalk.apps[<i>].<key>: why" (kInvalidArgument).
std::vector<Status> ValidateDingtalkApp(const DingtalkAppConfig& app, size_t index);

}  // namespace kefu::channels::dingtalk
