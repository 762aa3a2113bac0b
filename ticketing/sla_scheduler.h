// SlaScheduler: keeps every ticket's next SLA wake-up in memory (a TimerHeap), rebuilt from the
// store at start, and wakes the TicketService to re-evaluate tickets whose instant has come.
//
// The deadlines themselves are data in the store; the scheduler only decides when to look. A
// restart, a forward clock jump or a long stall simply makes more timers due at once; the
// service records each warning/breach once (events are unique per metric instance), so waking
// a ticket twice is harmless.
//
// Threads: Schedule/RunDue/Rebuild are thread-safe. Start() runs a background thread that calls
// RunDue when the earliest timer is due by the Clock (polling at most every `poll` so clock jumps
// are noticed); tests drive RunDue() with a FakeClock instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.h"
#include "core/result.h"
#include "ticketing/ticket_service.h"
#include "ticketing/timer_heap.h"

namespace kefu::ticketing {

class SlaScheduler {
 public:
  // Installs itself as `service`'s wake hook. `service` and `clock` must outlive the scheduler.
  SlaScheduler(TicketService& service, const Clock& clock);
  ~SlaScheduler();
  SlaScheduler(const SlaScheduler&) = delete;
  SlaScheduler& operator=(const SlaScheduler&) = delete;

  // Replaces the in-memory timers with the store's pending wake-ups. Errors: the store's.
  Status Rebuild();
  // Sets (or with nullopt cancels) a ticket's wake-up.
  void Schedule(TicketId id, std::optional<TimePoint> at);
  // Re-evaluates every ticket due at clock.Now(); returns how many were woken. A ticket whose
  // re-evaluation fails is retried after `retry_after`.
  size_t RunDue();
  std::optional<TimePoint> NextDue();
  size_t size();

  // Background thread; Stop() joins it (idempotent, also from the destructor).
  void Start(std::chrono::milliseconds poll = std::chrono::seconds(1));
  void Stop();

 private:
  TicketService& service_;
  const Clock& clock_;
  std::chrono::milliseconds retry_after_ = std::chrono::seconds(30);

  std::mutex mu_;
  std::condition_variable cv_;
  TimerHeap heap_;         // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kefu::ticketing
