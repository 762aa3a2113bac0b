#include "channels/dingtalk/dingtalk_callback.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <array>

#include "channels/common/callback_util.h"

namespace kefu::channels::dingtalk {
namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

int64_t Int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

const std::string* Param(const std::map<std::string, std::string>& q, const char* a,
                         const char* b = nullptr) {
  auto it = q.find(a);
  if (it != q.end()) return &it->second;
  if (b) {
    it = q.find(b);
    if (it != q.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace

Result<InboundMessage> RobotMessageToInbound(const DingtalkAppConfig& app,
                                             const nlohmann::json& body, std::string_view raw,
                                             int64_t received_at_ms) {
  if (!body.is_object()) return InvalidArgument("dingtalk robot message: not a JSON object");
  std::string msg_id = Str(body, "msgId");
  if (msg_id.empty()) return InvalidArgument("dingtalk robot message: msgId missing");
  InboundMessage m;
  m.channel = "dingtalk";
  m.app = app.name;
  m.platform_msg_id = msg_id;
  m.dedupe_key = "dingtalk|" + app.app_key + "|" + msg_id;
  std::string staff = Str(body, "senderStaffId");
  m.sender = staff.empty() ? Str(body, "senderId") : staff;
  std::string conv_type = Str(body, "conversationType");
  std::string conv_id = Str(body, "conversationId");
  m.conversation = conv_type == "2" ? "dingtalk|" + app.name + "|group:" + conv_id
                                    : "dingtalk|" + app.name + "|" + m.sender;
  m.msg_type = Str(body, "msgtype");
  if (m.msg_type == "text" && body.contains("text") && body["text"].is_object()) {
    m.text = std::string(TrimAsciiView(Str(body["text"], "content")));
  }
  m.platform_time_ms = Int(body, "createAt");
  m.received_at_ms = received_at_ms;
  m.payload = std::string(raw);
  nlohmann::json ctx = {{"conversationType", conv_type},
                        {"conversationId", conv_id},
                        {"senderStaffId", staff},
                        {"robotCode", Str(body, "robotCode")}};
  std::string webhook = Str(body, "sessionWebhook");
  if (!webhook.empty() && webhook.rfind(app.oapi_base + "/", 0) == 0) {
    ctx["sessionWebhook"] = webhook;
    ctx["sessionWebhookExpiredTime"] = Int(body, "sessionWebhookExpiredTime");
  }
  m.reply_context = ctx.dump();
  return m;
}

DingtalkCallbackHandler::DingtalkCallbackHandler(DingtalkAppConfig app, const Clock& clock,
                                                 InboundRecorder& recorder,
                                                 prometheus::Registry& registry)
    : app_(std::move(app)),
      clock_(clock),
      recorder_(recorder),
      replay_(std::chrono::seconds(std::max<int64_t>(app_.max_timestamp_skew_s, 300) * 2)),
      results_(&prometheus::BuildCounter()
                    .Name("kefu_channels_callbacks_total")
                    .Help("Platform callbacks by channel, app and result")
                    .Register(registry)) {
  crypto_.token = app_.token;
  (void)DecodeAesKey(app_.aes_key, crypto_.aes_key);
  crypto_.receive_id = app_.app_key;
}

void DingtalkCallbackHandler::Count(const char* kind, const char* result) {
  results_->Add({{"channel", kind}, {"app", app_.name}, {"result", result}}).Increment();
}

HttpHandler DingtalkCallbackHandler::RobotHandler() {
  return [this](HttpRequest& req, HttpResponder respond) { HandleRobot(req, std::move(respond)); };
}

HttpHandler DingtalkCallbackHandler::EventHandler() {
  return [this](HttpRequest& req, HttpResponder respond) { HandleEvent(req, std::move(respond)); };
}

void DingtalkCallbackHandler::HandleRobot(HttpRequest& req, HttpResponder respond) {
  if (req.body.size() > kMaxBodyBytes) {
    Count("dingtalk", "too_large");
    respond(EmptyResponse(413));
    return;
  }
  auto ts = req.Header("timestamp");
  auto sign = req.Header("sign");
  if (!ts || !sign ||
      !DingtalkVerifyRobotCallback(*ts, *sign, app_.app_secret, clock_.NowUnixMs())) {
    Count("dingtalk", "bad_signature");
    respond(EmptyResponse(403));
    return;
  }
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  auto msg = RobotMessageToInbound(app_, body, req.body, clock_.NowUnixMs());
  if (!msg.ok() || !IsValidUtf8(req.body)) {
    spdlog::error("dingtalk robot callback unusable app={} error={}", app_.name,
                  msg.ok() ? "invalid utf-8" : msg.status().message());
    Count("dingtalk", "bad_body");
    respond(HttpResponse::Json(400, "{}"));
    return;
  }
  recorder_.Record(std::move(*msg), [this, respond = std::move(respond)](RecordOutcome o) {
    if (!o.status.ok()) {
      Count("dingtalk", "store_failed");
      respond(EmptyResponse(503));
      return;
    }
    Count("dingtalk", o.duplicate ? "duplicate" : "stored");
    respond(HttpResponse::Json(200, "{}"));
  });
}

void DingtalkCallbackHandler::RespondSuccess(HttpResponder& respond) {
  std::string json;
  std::string ts = std::to_string(clock_.NowUnixMs());
  if (DingtalkSuccessReply(crypto_, ts, RandomAlnum(16), RandomAlnum(16), json) !=
      CryptoError::kOk) {
    respond(EmptyResponse(500));
    return;
  }
  respond(HttpResponse::Json(200, std::move(json)));
}

void DingtalkCallbackHandler::HandleEvent(HttpRequest& req, HttpResponder respond) {
  if (app_.token.empty()) {
    respond(EmptyResponse(404));
    return;
  }
  if (req.body.size() > kMaxBodyBytes) {
    Count("dingtalk_event", "too_large");
    respond(EmptyResponse(413));
    return;
  }
  auto q = RawQuery(req);
  const std::string* sig = q ? Param(*q, "msg_signature", "signature") : nullptr;
  const std::string* ts = q ? Param(*q, "timestamp", "timeStamp") : nullptr;
  const std::string* nonce = q ? Param(*q, "nonce") : nullptr;
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  std::string encrypt = body.is_object() ? Str(body, "encrypt") : "";
  if (!sig || !ts || !nonce || encrypt.empty()) {
    Count("dingtalk_event", "bad_query");
    respond(EmptyResponse(403));
    return;
  }
  if (!VerifySha1Signature(crypto_.token, *ts, *nonce, encrypt, *sig)) {
    Count("dingtalk_event", "bad_signature");
    respond(EmptyResponse(403));
    return;
  }
  TimePoint now = clock_.Now();
  if (!IsFresh(*ts, 1, std::chrono::seconds(app_.max_timestamp_skew_s), now)) {
    Count("dingtalk_event", "stale");
    respond(EmptyResponse(403));
    return;
  }
  if (replay_.Seen(*ts, *nonce, *sig, now)) {
    Count("dingtalk_event", "duplicate");
    RespondSuccess(respond);
    return;
  }
  std::string plain;
  CryptoError e = Decrypt(crypto_.aes_key, encrypt, crypto_.receive_id, plain);
  auto event = nlohmann::json::parse(plain, nullptr, false);
  if (e != CryptoError::kOk || !IsValidUtf8(plain) || !event.is_object()) {
    spdlog::error("dingtalk event rejected after signature app={} error={}", app_.name,
                  e != CryptoError::kOk ? CryptoErrorName(e) : "parse_json");
    Count("dingtalk_event", "permanent_error");
    respond(EmptyResponse(400));
    return;
  }
  std::string type = Str(event, "EventType");
  if (type == "check_url") {
    Count("dingtalk_event", "check_url");
    RespondSuccess(respond);
    return;
  }
  InboundMessage m;
  m.channel = "dingtalk";
  m.app = app_.name;
  m.dedupe_key = "dingtalk_event|" + app_.app_key + "|" + Sha256Hex(plain);
  m.msg_type = "event";
  m.event = type;
  m.sender = Str(event, "UserId");
  m.conversation = "dingtalk|" + app_.name + "|event";
  m.payload = plain;
  m.reply_context = "{}";
  m.platform_time_ms = Int(event, "TimeStamp");
  m.received_at_ms = ToUnixMs(now);
  recorder_.Record(std::move(m), [this, triple = std::array<std::string, 3>{*ts, *nonce, *sig},
                                  respond = std::move(respond)](RecordOutcome o) mutable {
    if (!o.status.ok()) {
      replay_.Forget(triple[0], triple[1], triple[2]);
      Count("dingtalk_event", "store_failed");
      respond(EmptyResponse(503));
      return;
    }
    Count("dingtalk_event", o.duplicate ? "duplicate" : "stored");
    RespondSuccess(respond);
  });
}

}  // namespace kefu::channels::dingtalk
