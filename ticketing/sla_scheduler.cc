#include "ticketing/sla_scheduler.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace kefu::ticketing {

SlaScheduler::SlaScheduler(TicketService& service, const Clock& clock)
    : service_(service), clock_(clock) {
  service_.SetWakeHook([this](TicketId id, std::optional<TimePoint> at) { Schedule(id, at); });
}

SlaScheduler::~SlaScheduler() {
  Stop();
  service_.SetWakeHook(nullptr);
}

Status SlaScheduler::Rebuild() {
  KEFU_ASSIGN_OR_RETURN(auto timers, service_.store().LoadTimers());
  TimerHeap fresh;
  int64_t max_id = 0;
  for (const auto& [id, at] : timers)
    max_id = std::max(max_id, id.value());
  fresh.Reserve(timers.size(), max_id);
  for (const auto& [id, at] : timers)
    fresh.Set(id, at);
  {
    std::lock_guard lock(mu_);
    heap_ = std::move(fresh);
  }
  cv_.notify_all();
  spdlog::info("sla scheduler rebuilt timers={}", timers.size());
  return Status::Ok();
}

void SlaScheduler::Schedule(TicketId id, std::optional<TimePoint> at) {
  {
    std::lock_guard lock(mu_);
    if (at) {
      heap_.Set(id, *at);
    } else {
      heap_.Cancel(id);
    }
  }
  cv_.notify_all();
}

size_t SlaScheduler::RunDue() {
  const TimePoint now = clock_.Now();
  std::vector<TicketId> due;
  {
    std::lock_guard lock(mu_);
    while (auto id = heap_.PopDue(now))
      due.push_back(*id);
  }
  for (TicketId id : due) {
    auto t = service_.Evaluate(id);
    if (!t.ok() && t.status().code() != StatusCode::kNotFound) {
      spdlog::warn("sla re-evaluation failed ticket_id={} error={}", id.value(),
                   t.status().ToString());
      Schedule(id, now + retry_after_);
    }
  }
  return due.size();
}

std::optional<TimePoint> SlaScheduler::NextDue() {
  std::lock_guard lock(mu_);
  return heap_.Earliest();
}

size_t SlaScheduler::size() {
  std::lock_guard lock(mu_);
  return heap_.size();
}

void SlaScheduler::Start(std::chrono::milliseconds poll) {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, poll] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      auto next = heap_.Earliest();
      const TimePoint now = clock_.Now();
      if (next && *next <= now) {
        lock.unlock();
        RunDue();
        lock.lock();
        continue;
      }
      auto wait = poll;
      if (next)
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*next - now));
      cv_.wait_for(lock, wait);
    }
  });
}

void SlaScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kefu::ticketing
