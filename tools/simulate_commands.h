// kefuctl simulate wecom|dingtalk: builds a correctly signed (and for WeCom encrypted) callback
// from the [[wecom.apps]] / [[dingtalk.apps]] of --config and POSTs it to a running kefud.
//
//   kefuctl simulate wecom    --url http://127.0.0.1:8080/callback/wecom/main    --config
//   kefud.toml
//                             --app main --from zhangsan --text "退货怎么办"
//   kefuctl simulate dingtalk --url http://127.0.0.1:8080/callback/dingtalk/main --config
//   kefud.toml
//                             --app main --from staff001 --text "你好"
//
// Prints the HTTP status (and body when non-empty); exit 0 when kefud answered 200, 1 otherwise,
// 2 for bad flags or config.
#pragma once

#include <map>
#include <string>

#include "app/channels_config.h"
#include "core/result.h"
#include "tools/command.h"

namespace kefu::tools {

void RegisterSimulateCommands(CLI::App& kefuctl, CommandContext& ctx);

// A request kefuctl would send (exposed for tests).
struct SimulatedRequest {
  std::string target_suffix;  // query string to append to --url ("" for DingTalk)
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;
};

// WeCom: text message from `from`, MsgId `msg_id`, signed and encrypted for `app` at `now_s`.
Result<SimulatedRequest> BuildWecomCallback(const channels::wecom::WecomAppConfig& app,
                                            const std::string& from, const std::string& text,
                                            const std::string& msg_id, int64_t now_s);
// DingTalk: robot text message with header timestamp/sign for `app` at `now_ms`.
Result<SimulatedRequest> BuildDingtalkCallback(const channels::dingtalk::DingtalkAppConfig& app,
                                               const std::string& from, const std::string& text,
                                               const std::string& msg_id, int64_t now_ms);

}  // namespace kefu::tools
