#include "channels/wecom/wecom_api.h"

#include "channels/common/wx_crypto.h"

namespace kefu::channels::wecom {

WecomApi::WecomApi(std::string api_base, std::string corp_id, std::string secret, HttpClient& http,
                   const Clock& clock)
    : api_base_(std::move(api_base)),
      corp_id_(std::move(corp_id)),
      secret_(std::move(secret)),
      http_(http),
      tokens_(clock, [this] { return FetchToken(); }) {}

Result<FetchedToken> WecomApi::FetchToken() {
  OutboundRequest req;
  req.method = "GET";
  req.url = api_base_ + "/cgi-bin/gettoken?corpid=" + PercentEncode(corp_id_) +
            "&corpsecret=" + PercentEncode(secret_);
  KEFU_ASSIGN_OR_RETURN(OutboundResponse res, http_.Send(req));
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (res.status != 200 || !j.is_object()) {
    return Unavailable("wecom gettoken: http " + std::to_string(res.status));
  }
  int64_t errcode = j.value("errcode", int64_t{-2});
  if (errcode == 40001 || errcode == 40013 || errcode == 40091) {
    return Unauthenticated("wecom gettoken: " + std::to_string(errcode) + " " +
                           j.value("errmsg", std::string()));
  }
  if (errcode != 0 || !j.contains("access_token")) {
    return Unavailable("wecom gettoken: " + std::to_string(errcode) + " " +
                       j.value("errmsg", std::string()));
  }
  return FetchedToken{j.value("access_token", std::string()),
                      std::chrono::seconds(j.value("expires_in", int64_t{7200}))};
}

Result<ApiReply> WecomApi::Post(const std::string& path, const nlohmann::json& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    KEFU_ASSIGN_OR_RETURN(std::string token, tokens_.Get());
    OutboundRequest req;
    req.url = api_base_ + path + "?access_token=" + PercentEncode(token);
    req.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    KEFU_ASSIGN_OR_RETURN(OutboundResponse res, http_.Send(req));
    ApiReply reply;
    reply.http_status = res.status;
    reply.body = nlohmann::json::parse(res.body, nullptr, false);
    if (reply.body.is_object()) {
      reply.errcode = reply.body.value("errcode", int64_t{-2});
      reply.errmsg = reply.body.value("errmsg", std::string());
    } else {
      reply.errcode = -2;
    }
    if ((reply.errcode == 40014 || reply.errcode == 42001) && attempt == 0) {
      tokens_.Invalidate(token);
      continue;
    }
    return reply;
  }
  return Internal("wecom: unreachable");
}

}  // namespace kefu::channels::wecom
