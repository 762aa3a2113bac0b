#include "channels/dingtalk/dingtalk_config.h"

#include "channels/common/callback_util.h"
#include "channels/common/wx_crypto.h"

namespace kefu::channels::dingtalk {

std::vector<Status> ValidateDingtalkApp(const DingtalkAppConfig& app, size_t index) {
  std::vector<Status> errors;
  std::string prefix = "dingtalk.apps[" + std::to_string(index) + "].";
  auto bad = [&](const std::string& key, const std::string& why) {
    errors.push_back(InvalidArgument(prefix + key + ": " + why));
  };
  if (!IsValidAppName(app.name)) {
    bad("name", "must be non-empty and only letters, digits, '-' and '_'");
  }
  if (app.app_key.empty()) bad("app_key", "must not be empty");
  if (app.app_secret.empty()) bad("app_secret", "must not be empty");
  if (!app.token.empty() || !app.aes_key.empty()) {
    AesKey key;
    if (app.token.empty()) bad("token", "must be set together with aes_key");
    if (DecodeAesKey(app.aes_key, key) != CryptoError::kOk) {
      bad("aes_key", "must be 43 characters of [A-Za-z0-9+/] (900004 illegal aes key)");
    }
  }
  for (const auto& [key, url] : {std::pair<std::string, std::string>{"api_base", app.api_base},
                                 {"oapi_base", app.oapi_base}}) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      bad(key, "must start with http:// or https://");
    }
  }
  if (app.max_timestamp_skew_s < 0) bad("max_timestamp_skew_s", "must be >= 0");
  if (app.robot_per_minute < 1 || app.robot_per_minute > 20)
    bad("robot_per_minute", "must be 1..20");
  return errors;
}

}  // namespace kefu::channels::dingtalk
