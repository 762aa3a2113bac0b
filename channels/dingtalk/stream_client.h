// DingTalk Stream mode (spec §4.6): a WebSocket client for deployments without a public URL.
//
// StreamFrameHandler is the protocol logic without sockets: it turns one downstream frame into the
// ACK to send. CALLBACK frames of the bot topic are stored (dedupe "dingtalk|<app_key>|<msgId>")
// and ACKed 200 only after the commit; EVENT frames are stored with dedupe
// "dingtalk_event|<app_key>|<eventId>"; SYSTEM ping echoes `data`; SYSTEM disconnect is ACKed and
// then the connection is closed (and reopened). A frame or `data` that is not valid JSON -> ACK
// 400.
//
// DingtalkStreamClient runs on its own thread: POST connections/open, connect the WebSocket
// (ws:// or wss://) to endpoint?ticket=..., handle frames one at a time, reconnect with
// exponential backoff 1 s -> 60 s with jitter after any failure. Keep-alive (spec §4.6): a
// WebSocket ping when nothing was sent or received for ping_interval (60 s, Python SDK), and a
// fresh connection when nothing at all (frame, ping or pong) arrived for idle_timeout (120 s, Go
// SDK keepAliveIdle): a gateway that went silent is not waited for forever on a half-open TCP
// connection. Both are decided by StreamKeepAlive on the injected Clock. Beast lives only in
// stream_client.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "channels/common/inbound.h"
#include "channels/dingtalk/dingtalk_config.h"
#include "channels/dingtalk/dingtalk_sender.h"
#include "core/clock.h"

namespace kefu::channels::dingtalk {

struct StreamAck {
  std::string frame;         // JSON text to send upstream ("" = nothing)
  bool close_after = false;  // disconnect: close after sending, then reconnect
};

class StreamFrameHandler {
 public:
  StreamFrameHandler(DingtalkAppConfig app, const Clock& clock, InboundRecorder& recorder);
  // Blocks until the message (if any) is durably stored; never throws.
  StreamAck OnFrame(std::string_view frame);

 private:
  DingtalkAppConfig app_;
  const Clock& clock_;
  InboundRecorder& recorder_;
};

// ACK frame for `message_id` with `code` and `data` (a JSON string).
std::string StreamAckFrame(std::string_view message_id, int code, std::string_view data);

struct StreamKeepAliveOptions {
  // A WebSocket ping is sent when nothing was sent (ping) or received for this long.
  std::chrono::milliseconds ping_interval{60'000};
  // Nothing received for longer than this: the connection is dropped and opened again.
  std::chrono::milliseconds idle_timeout{120'000};
  // Real-time granularity with which the client looks at the clock while waiting for frames.
  std::chrono::milliseconds poll{200};
};

// When to ping and when to give up on a silent gateway. Pure logic over a Clock; one per
// connection, created when it opens. Not thread-safe (used by the client's thread only).
class StreamKeepAlive {
 public:
  enum class Action { kNone, kPing, kReconnect };
  StreamKeepAlive(const Clock& clock, StreamKeepAliveOptions options);
  // A frame, ping or pong arrived.
  void OnReceived();
  void OnPingSent();
  // kReconnect when nothing arrived for more than idle_timeout; else kPing when neither a ping
  // was sent nor anything arrived for ping_interval; else kNone.
  Action Check() const;

 private:
  const Clock& clock_;
  StreamKeepAliveOptions options_;
  TimePoint last_received_;
  TimePoint last_ping_;
};

class DingtalkStreamClient {
 public:
  DingtalkStreamClient(DingtalkApi& api, StreamFrameHandler& handler, const Clock& clock,
                       StreamKeepAliveOptions keep_alive = {});
  ~DingtalkStreamClient();
  void Start();
  void Stop();
  // Number of WebSocket sessions opened so far (tests).
  int sessions() const { return sessions_.load(); }
  // WebSocket pings sent so far (tests).
  int pings() const { return pings_.load(); }

 private:
  void Loop();
  // One session: open, connect, read until closed. Returns false on failure.
  bool RunSession();

  DingtalkApi& api_;
  StreamFrameHandler& handler_;
  const Clock& clock_;
  StreamKeepAliveOptions keep_alive_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sessions_{0};
  std::atomic<int> pings_{0};
  std::atomic<int> socket_fd_{-1};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::thread thread_;
};

}  // namespace kefu::channels::dingtalk
