// HTTP handlers for DingTalk:
//   POST /callback/dingtalk/{app}        robot message callback (spec §4.1): header timestamp+sign
//                                        (1 h window) -> 403 on failure; stored -> 200 {}.
//   POST /callback/dingtalk/{app}/event  encrypted event subscription (spec §4.5): signature,
//                                        300 s window (ms) -> 403; stored (or check_url) -> 200
//                                        with the encrypted "success" JSON.
// Answers go out only after the inbound row committed; a storage failure is 503.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "channels/common/inbound.h"
#include "channels/common/replay_cache.h"
#include "channels/common/wx_crypto.h"
#include "channels/dingtalk/dingtalk_config.h"
#include "core/clock.h"
#include "core/http.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace kefu::channels::dingtalk {

// The robot message body (HTTP callback or Stream `data`) -> InboundMessage. Dedupe key
// "dingtalk|<app_key>|<msgId>". `text` is the trimmed content (the original stays in payload).
// The sessionWebhook is kept in reply_context only if it starts with `oapi_base` (SSRF guard).
// kInvalidArgument when msgId is missing.
Result<InboundMessage> RobotMessageToInbound(const DingtalkAppConfig& app,
                                             const nlohmann::json& body, std::string_view raw,
                                             int64_t received_at_ms);

class DingtalkCallbackHandler {
 public:
  DingtalkCallbackHandler(DingtalkAppConfig app, const Clock& clock, InboundRecorder& recorder,
                          prometheus::Registry& registry);
  void HandleRobot(HttpRequest& req, HttpResponder respond);
  void HandleEvent(HttpRequest& req, HttpResponder respond);
  HttpHandler RobotHandler();
  HttpHandler EventHandler();

  static constexpr size_t kMaxBodyBytes = 1 << 20;

 private:
  void Count(const char* kind, const char* result);
  void RespondSuccess(HttpResponder& respond);

  DingtalkAppConfig app_;
  WxCryptConfig crypto_;
  const Clock& clock_;
  InboundRecorder& recorder_;
  ReplayCache replay_;
  prometheus::Family<prometheus::Counter>* results_;
};

}  // namespace kefu::channels::dingtalk
