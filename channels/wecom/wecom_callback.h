// HTTP handler for GET|POST /callback/wecom/{app} (spec §2.1, §2.2, response policy §2.2).
//
//   forged/missing signature, malformed query/envelope, stale timestamp -> 403, empty, nothing
//   stored repeated (timestamp, nonce, signature) inside the window             -> 200, empty
//   (duplicate) decrypt / ReceiveId / XML error after a good signature               -> 200, empty
//   + metric storage failure                                                      -> 503 (WeCom
//   retries) stored (or duplicate dedupe key)                                     -> 200, empty
// The 200 is sent only from the writer's done callback, i.e. after the COMMIT. kf_msg_or_event
// notifications are answered at once and trigger a KfSyncer pass.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "channels/common/inbound.h"
#include "channels/common/replay_cache.h"
#include "channels/common/wx_crypto.h"
#include "channels/wecom/kf_syncer.h"
#include "channels/wecom/wecom_config.h"
#include "core/clock.h"
#include "core/http.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace kefu::channels::wecom {

class WecomCallbackHandler {
 public:
  // `kf` may be null (kf = false). All references must outlive the handler. `app.encoding_aes_key`
  // must be valid (ValidateWecomApp).
  WecomCallbackHandler(WecomAppConfig app, const Clock& clock, InboundRecorder& recorder,
                       KfSyncer* kf, prometheus::Registry& registry);
  // Thread-safe; never blocks on the database.
  void Handle(HttpRequest& req, HttpResponder respond);
  // Handle bound into a kefu::HttpHandler (the handler must outlive it).
  HttpHandler AsHttpHandler();

  static constexpr size_t kMaxBodyBytes = 1 << 20;

 private:
  void Count(const char* result);
  void HandleGet(const std::map<std::string, std::string>& q, HttpResponder respond);
  void HandlePost(const std::map<std::string, std::string>& q, const std::string& body,
                  HttpResponder respond);

  WecomAppConfig app_;
  WxCryptConfig crypto_;
  const Clock& clock_;
  InboundRecorder& recorder_;
  KfSyncer* kf_;
  ReplayCache replay_;
  prometheus::Family<prometheus::Counter>* results_;
  // The counter of every result this handler reports, made once: Family::Add builds a label map
  // and takes the family's lock, on every callback. Read-only after construction.
  std::map<std::string_view, prometheus::Counter*> counters_;
};

}  // namespace kefu::channels::wecom
