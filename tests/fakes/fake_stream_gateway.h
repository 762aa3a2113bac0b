// Fake DingTalk Stream WebSocket gateway on ws://127.0.0.1:<ephemeral>/stream. Frames queued with
// Push() are written to the connected client one at a time, each followed by reading the client's
// ACK (recorded). A client that closes (e.g. after a disconnect frame) may reconnect; remaining
// frames go to the new connection. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace kefu::fakes {

class FakeStreamGateway {
 public:
  FakeStreamGateway();
  ~FakeStreamGateway();
  void Start();
  void Stop();
  std::string endpoint() const;
  void Push(std::string frame);
  std::vector<nlohmann::json> Acks() const;
  std::vector<std::string> Targets() const;  // request targets of the handshakes (with ?ticket=)
  int connections() const;
  // WebSocket pings received from clients (seen while the gateway reads an ACK: a gateway with no
  // frame to deliver is silent and does not answer pings).
  int pings() const;
  // Waits (real time, bounded) until `n` ACKs arrived; false on timeout.
  bool WaitForAcks(size_t n, int timeout_ms = 10000) const;

 private:
  struct Impl;
  void Serve();
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<std::string> frames_;    // guarded by mu_
  std::vector<nlohmann::json> acks_;  // guarded by mu_
  std::vector<std::string> targets_;  // guarded by mu_
  int connections_ = 0;               // guarded by mu_
  int pings_ = 0;                     // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  unsigned short port_ = 0;
};

}  // namespace kefu::fakes
