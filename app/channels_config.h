// [[wecom.apps]] and [[dingtalk.apps]] (issue 4): the channels' part of kefud's Config.
#pragma once

#include <vector>

#include "channels/dingtalk/dingtalk_config.h"
#include "channels/wecom/wecom_config.h"

namespace kefu::app {

struct ChannelsConfig {
  // 企业微信 self-built apps; callback GET|POST /callback/wecom/<name>.
  std::vector<channels::wecom::WecomAppConfig> wecom_apps;
  // 钉钉 internal-app robots; callbacks POST /callback/dingtalk/<name>[/event].
  std::vector<channels::dingtalk::DingtalkAppConfig> dingtalk_apps;
};

}  // namespace kefu::app
