// Configuration of one WeCom self-built app ([[wecom.apps]], issue 4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace kefu::channels::wecom {

struct WecomAppConfig {
  std::string name;              // callback path /callback/wecom/<name>
  std::string corp_id;           // CorpID, also the ReceiveId of callbacks
  int64_t agent_id = 0;          // app AgentID for message/send
  std::string token;             // callback Token (signature)
  std::string encoding_aes_key;  // 43-char EncodingAESKey
  std::string secret;            // app secret for gettoken (resolved from env:/file:)
  bool kf = false;               // also handle 微信客服 (kf_msg_or_event -> sync_msg)
  std::string kf_secret;         // 微信客服 secret; empty = use `secret`
  std::string api_base = "https://qyapi.weixin.qq.com";
  int64_t max_timestamp_skew_s = 300;  // 0 disables the freshness check
  int per_member_per_minute = 30;      // message/send limit per member (platform drops above 30)
};

// Checks one app; errors name the key as "wecom.apps[<index>].<key>: why" (kInvalidArgument).
std::vector<Status> ValidateWecomApp(const WecomAppConfig& app, size_t index);

}  // namespace kefu::channels::wecom
