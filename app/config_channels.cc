// [[wecom.apps]] and [[dingtalk.apps]] config readers (keys exactly as in issue 4; plus the
// optional kf_secret, per_member_per_minute, robot_per_minute and max_timestamp_skew_s for
// DingTalk).
#include <cctype>
#include <cstdint>
#include <set>
#include <string>

#include "app/channels_api.h"
#include "channels/common/wx_crypto.h"

namespace kefu::app {
namespace {

void CheckName(const ConfigSection& s, const std::string& name, std::set<std::string>& seen) {
  if (name.empty()) return;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      s.Error("name", "only letters, digits, '-' and '_' are allowed");
      return;
    }
  }
  if (!seen.insert(name).second) s.Error("name", "duplicate app name \"" + name + "\"");
}

void CheckAesKey(const ConfigSection& s, const char* key, const std::string& value) {
  channels::AesKey k;
  if (channels::DecodeAesKey(value, k) != channels::CryptoError::kOk) {
    s.Error(key, "must be exactly 43 characters of [A-Za-z0-9+/] (IllegalAesKey -40004)");
  }
}

void CheckBase(const ConfigSection& s, const char* key, const std::string& value) {
  if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) {
    s.Error(key, "must start with http:// or https://");
  }
}

}  // namespace

void ReadChannelsConfig(const ConfigSection& root, ChannelsConfig& out) {
  std::set<std::string> names;
  for (const ConfigSection& s : root.Table("wecom").TableArray("apps")) {
    channels::wecom::WecomAppConfig a;
    s.NonEmptyString("name", a.name);
    s.NonEmptyString("corp_id", a.corp_id);
    s.Int64("agent_id", a.agent_id, 0, INT64_MAX);
    s.NonEmptyString("token", a.token);
    s.NonEmptyString("encoding_aes_key", a.encoding_aes_key);
    s.Secret("secret", a.secret);
    s.Bool("kf", a.kf);
    s.Secret("kf_secret", a.kf_secret);
    s.NonEmptyString("api_base", a.api_base);
    s.Int64("max_timestamp_skew_s", a.max_timestamp_skew_s, 0, 86'400);
    s.Int("per_member_per_minute", a.per_member_per_minute, 1, 30);
    for (const char* required : {"name", "corp_id", "token", "encoding_aes_key", "secret"}) {
      if (!s.Has(required)) s.Error(required, "is required");
    }
    if (a.token.size() > 32) s.Error("token", "must be at most 32 characters");
    if (s.Has("encoding_aes_key")) CheckAesKey(s, "encoding_aes_key", a.encoding_aes_key);
    CheckBase(s, "api_base", a.api_base);
    CheckName(s, a.name, names);
    if (a.kf_secret.empty()) a.kf_secret = a.secret;
    out.wecom_apps.push_back(std::move(a));
  }
  names.clear();
  for (const ConfigSection& s : root.Table("dingtalk").TableArray("apps")) {
    channels::dingtalk::DingtalkAppConfig a;
    s.NonEmptyString("name", a.name);
    s.NonEmptyString("app_key", a.app_key);
    s.Secret("app_secret", a.app_secret);
    s.String("robot_code", a.robot_code);
    s.Enum("mode", a.mode,
           {{"http", channels::dingtalk::DingtalkMode::kHttp},
            {"stream", channels::dingtalk::DingtalkMode::kStream}});
    s.String("token", a.token);
    s.Secret("aes_key", a.aes_key);
    s.NonEmptyString("api_base", a.api_base);
    s.NonEmptyString("oapi_base", a.oapi_base);
    s.Int64("max_timestamp_skew_s", a.max_timestamp_skew_s, 0, 86'400);
    s.Int("robot_per_minute", a.robot_per_minute, 1, 20);
    for (const char* required : {"name", "app_key", "app_secret"}) {
      if (!s.Has(required)) s.Error(required, "is required");
    }
    if (!a.token.empty() || !a.aes_key.empty()) {
      if (a.token.empty()) s.Error("token", "must be set together with aes_key");
      CheckAesKey(s, "aes_key", a.aes_key);
    }
    CheckBase(s, "api_base", a.api_base);
    CheckBase(s, "oapi_base", a.oapi_base);
    CheckName(s, a.name, names);
    out.dingtalk_apps.push_back(std::move(a));
  }
}

}  // namespace kefu::app
