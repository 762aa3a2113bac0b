#include "channels/wecom/wecom_config.h"

#include "channels/common/callback_util.h"
#include "channels/common/wx_crypto.h"

namespace kefu::channels::wecom {

std::vector<Status> ValidateWecomApp(const WecomAppConfig& app, size_t index) {
  std::vector<Status> errors;
  std::string prefix = "wecom.apps[" + std::to_string(index) + "].";
  auto bad = [&](const std::string& key, const std::string& why) {
    errors.push_back(InvalidArgument(prefix + key + ": " + why));
  };
  if (!IsValidAppName(app.name)) {
    bad("name", "must be non-empty and only letters, digits, '-' and '_'");
  }
  if (app.corp_id.empty()) bad("corp_id", "must not be empty");
  if (app.token.empty() || app.token.size() > 32) bad("token", "must be 1..32 characters");
  AesKey key;
  if (DecodeAesKey(app.encoding_aes_key, key) != CryptoError::kOk) {
    bad("encoding_aes_key", "must be 43 characters of [A-Za-z0-9+/] (-40004 IllegalAesKey)");
  }
  if (app.secret.empty()) bad("secret", "must not be empty");
  if (app.api_base.rfind("http://", 0) != 0 && app.api_base.rfind("https://", 0) != 0) {
    bad("api_base", "must start with http:// or https://");
  }
  if (app.max_timestamp_skew_s < 0) bad("max_timestamp_skew_s", "must be >= 0");
  if (app.per_member_per_minute < 1 || app.per_member_per_minute > 30) {
    bad("per_member_per_minute", "must be 1..30");
  }
  return errors;
}

}  // namespace kefu::channels::wecom
