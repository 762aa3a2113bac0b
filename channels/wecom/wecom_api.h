// WeCom server API client: gettoken with a TokenCache per secret, and JSON POST calls that refresh
// the token exactly once on 40014/42001 (spec §2.5). Blocking: call from worker threads only.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "channels/common/http_client.h"
#include "channels/common/token_cache.h"
#include "core/clock.h"
#include "core/result.h"

namespace kefu::channels::wecom {

struct ApiReply {
  int http_status = 0;
  int64_t errcode = 0;  // 0 = ok; -2 when the body was not JSON with errcode
  std::string errmsg;
  nlohmann::json body;
};

class WecomApi {
 public:
  // `secret` selects the token (app secret or kf secret). `http` is not owned.
  WecomApi(std::string api_base, std::string corp_id, std::string secret, HttpClient& http,
           const Clock& clock);
  // POST api_base + path?access_token=...; retries once with a fresh token on 40014/42001.
  // Errors: the token fetch Status (kUnauthenticated for 40001), or the transport Status.
  Result<ApiReply> Post(const std::string& path, const nlohmann::json& body);
  TokenCache& tokens() { return tokens_; }

 private:
  Result<FetchedToken> FetchToken();
  std::string api_base_;
  std::string corp_id_;
  std::string secret_;
  HttpClient& http_;
  TokenCache tokens_;
};

}  // namespace kefu::channels::wecom
