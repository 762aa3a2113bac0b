#include "channels/wecom/wecom_callback.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <array>

#include "channels/common/callback_util.h"
#include "channels/common/xml.h"
#include "channels/wecom/wecom_message.h"

namespace kefu::channels::wecom {
namespace {

const std::string* Param(const std::map<std::string, std::string>& q, const char* name) {
  auto it = q.find(name);
  return it == q.end() ? nullptr : &it->second;
}

}  // namespace

WecomCallbackHandler::WecomCallbackHandler(WecomAppConfig app, const Clock& clock,
                                           InboundRecorder& recorder, KfSyncer* kf,
                                           prometheus::Registry& registry)
    : app_(std::move(app)),
      clock_(clock),
      recorder_(recorder),
      kf_(kf),
      replay_(std::chrono::seconds(std::max<int64_t>(app_.max_timestamp_skew_s, 300) * 2)),
      results_(&prometheus::BuildCounter()
                    .Name("kefu_channels_callbacks_total")
                    .Help("Platform callbacks by channel, app and result")
                    .Register(registry)) {
  for (std::string_view result : {"bad_query", "too_large", "bad_signature", "decrypt_error",
                                  "stale", "verified", "bad_envelope", "duplicate",
                                  "permanent_error", "kf_notification", "store_failed", "stored"}) {
    counters_.emplace(
        result, &results_->Add(
                    {{"channel", "wecom"}, {"app", app_.name}, {"result", std::string(result)}}));
  }
  crypto_.token = app_.token;
  (void)DecodeAesKey(app_.encoding_aes_key, crypto_.aes_key);
  crypto_.receive_id = app_.corp_id;
}

void WecomCallbackHandler::Count(const char* result) {
  auto it = counters_.find(result);
  if (it != counters_.end()) {
    it->second->Increment();
    return;
  }
  results_->Add({{"channel", "wecom"}, {"app", app_.name}, {"result", result}}).Increment();
}

HttpHandler WecomCallbackHandler::AsHttpHandler() {
  return [this](HttpRequest& req, HttpResponder respond) { Handle(req, std::move(respond)); };
}

void WecomCallbackHandler::Handle(HttpRequest& req, HttpResponder respond) {
  auto q = RawQuery(req);
  if (!q) {
    Count("bad_query");
    respond(EmptyResponse(403));
    return;
  }
  if (req.method == "GET") {
    HandleGet(*q, std::move(respond));
  } else if (req.method == "POST") {
    if (req.body.size() > kMaxBodyBytes) {
      Count("too_large");
      respond(EmptyResponse(413));
      return;
    }
    HandlePost(*q, req.body, std::move(respond));
  } else {
    respond(EmptyResponse(405));
  }
}

void WecomCallbackHandler::HandleGet(const std::map<std::string, std::string>& q,
                                     HttpResponder respond) {
  const std::string* sig = Param(q, "msg_signature");
  const std::string* ts = Param(q, "timestamp");
  const std::string* nonce = Param(q, "nonce");
  const std::string* echo = Param(q, "echostr");
  if (!sig || !ts || !nonce || !echo) {
    Count("bad_query");
    respond(EmptyResponse(403));
    return;
  }
  std::string reply;
  CryptoError e = WecomVerifyUrl(crypto_, *sig, *ts, *nonce, *echo, reply);
  if (e != CryptoError::kOk) {
    Count(e == CryptoError::kValidateSignature ? "bad_signature" : "decrypt_error");
    respond(EmptyResponse(403));
    return;
  }
  if (!IsFresh(*ts, 1000, std::chrono::seconds(app_.max_timestamp_skew_s), clock_.Now())) {
    Count("stale");
    respond(EmptyResponse(403));
    return;
  }
  Count("verified");
  respond(HttpResponse::Text(200, std::move(reply)));
}

void WecomCallbackHandler::HandlePost(const std::map<std::string, std::string>& q,
                                      const std::string& body, HttpResponder respond) {
  const std::string* sig = Param(q, "msg_signature");
  const std::string* ts = Param(q, "timestamp");
  const std::string* nonce = Param(q, "nonce");
  if (!sig || !ts || !nonce) {
    Count("bad_query");
    respond(EmptyResponse(403));
    return;
  }
  auto env = ParseFlatXml(body);
  if (!env.ok() || env->find("Encrypt") == env->end()) {
    Count("bad_envelope");
    respond(EmptyResponse(403));
    return;
  }
  std::string encrypt(TrimAsciiView(env->find("Encrypt")->second));
  if (!VerifySha1Signature(crypto_.token, *ts, *nonce, encrypt, *sig)) {
    Count("bad_signature");
    respond(EmptyResponse(403));
    return;
  }
  TimePoint now = clock_.Now();
  if (!IsFresh(*ts, 1000, std::chrono::seconds(app_.max_timestamp_skew_s), now)) {
    Count("stale");
    respond(EmptyResponse(403));
    return;
  }
  if (replay_.Seen(*ts, *nonce, *sig, now)) {
    Count("duplicate");
    respond(EmptyResponse(200));
    return;
  }
  std::string plain;
  CryptoError e = Decrypt(crypto_.aes_key, encrypt, crypto_.receive_id, plain);
  Result<XmlFields> fields = InvalidArgument("not decrypted");
  if (e == CryptoError::kOk) fields = ParseFlatXml(plain);
  if (e != CryptoError::kOk || !fields.ok()) {
    // Authenticated but undecryptable: retrying will not help (spec §2.2): 200 + alert.
    spdlog::error("wecom callback rejected after signature app={} error={}", app_.name,
                  e != CryptoError::kOk ? CryptoErrorName(e) : "parse_xml");
    Count("permanent_error");
    respond(EmptyResponse(200));
    return;
  }
  if (FieldOr(*fields, "MsgType") == "event" && FieldOr(*fields, "Event") == "kf_msg_or_event") {
    Count("kf_notification");
    respond(EmptyResponse(200));
    if (kf_)
      kf_->Schedule(std::string(FieldOr(*fields, "OpenKfId")),
                    std::string(FieldOr(*fields, "Token")));
    return;
  }
  auto msg = ToInbound(app_.name, app_.corp_id, *fields, plain, ToUnixMs(now));
  if (!msg.ok()) {
    spdlog::error("wecom callback unusable app={} error={}", app_.name, msg.status().message());
    Count("permanent_error");
    respond(EmptyResponse(200));
    return;
  }
  recorder_.Record(std::move(*msg), [this, triple = std::array<std::string, 3>{*ts, *nonce, *sig},
                                     respond = std::move(respond)](RecordOutcome o) {
    if (!o.status.ok()) {
      spdlog::error("wecom callback not stored app={} error={}", app_.name, o.status.ToString());
      replay_.Forget(triple[0], triple[1], triple[2]);
      Count("store_failed");
      respond(EmptyResponse(503));
      return;
    }
    Count(o.duplicate ? "duplicate" : "stored");
    respond(EmptyResponse(200));
  });
}

}  // namespace kefu::channels::wecom
