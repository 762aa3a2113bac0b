#include "ticketing/timer_heap.h"

namespace kefu::ticketing {

namespace {
constexpr size_t kArity = 4;
}

void TimerHeap::Reserve(size_t timers, int64_t max_id) {
  heap_.reserve(timers);
  if (max_id >= 0) pos_.reserve(static_cast<size_t>(max_id) + 1);
}

size_t TimerHeap::MemoryBytes() const {
  return heap_.capacity() * sizeof(Entry) + pos_.capacity() * sizeof(uint32_t);
}

bool TimerHeap::Contains(TicketId id) const {
  const auto i = static_cast<size_t>(id.value());
  return id.value() >= 0 && i < pos_.size() && pos_[i] != 0;
}

void TimerHeap::Place(size_t i, const Entry& e) {
  heap_[i] = e;
  pos_[static_cast<size_t>(e.id)] = static_cast<uint32_t>(i + 1);
}

void TimerHeap::SiftUp(size_t i) {
  const Entry e = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (heap_[parent].at_ms <= e.at_ms) break;
    Place(i, heap_[parent]);
    i = parent;
  }
  Place(i, e);
}

void TimerHeap::SiftDown(size_t i) {
  const Entry e = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    const size_t first = i * kArity + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t last = std::min(first + kArity, n);
    for (size_t c = first + 1; c < last; ++c) {
      if (heap_[c].at_ms < heap_[best].at_ms) best = c;
    }
    if (heap_[best].at_ms >= e.at_ms) break;
    Place(i, heap_[best]);
    i = best;
  }
  Place(i, e);
}

void TimerHeap::Set(TicketId id, TimePoint at) {
  if (id.value() < 0) return;
  const auto key = static_cast<size_t>(id.value());
  if (key >= pos_.size()) pos_.resize(std::max(key + 1, pos_.size() * 2), 0);
  const Entry e{ToUnixMs(at), id.value()};
  if (pos_[key] != 0) {
    const size_t i = pos_[key] - 1;
    const int64_t old = heap_[i].at_ms;
    heap_[i] = e;
    if (e.at_ms < old) {
      SiftUp(i);
    } else {
      SiftDown(i);
    }
    return;
  }
  heap_.push_back(e);
  SiftUp(heap_.size() - 1);
}

void TimerHeap::RemoveAt(size_t i) {
  pos_[static_cast<size_t>(heap_[i].id)] = 0;
  const Entry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  heap_[i] = last;
  pos_[static_cast<size_t>(last.id)] = static_cast<uint32_t>(i + 1);
  if (i > 0 && heap_[(i - 1) / kArity].at_ms > last.at_ms) {
    SiftUp(i);
  } else {
    SiftDown(i);
  }
}

void TimerHeap::Cancel(TicketId id) {
  if (!Contains(id)) return;
  RemoveAt(pos_[static_cast<size_t>(id.value())] - 1);
}

std::optional<TimePoint> TimerHeap::Earliest() const {
  if (heap_.empty()) return std::nullopt;
  return FromUnixMs(heap_.front().at_ms);
}

std::optional<TicketId> TimerHeap::PopDue(TimePoint now) {
  if (heap_.empty() || heap_.front().at_ms > ToUnixMs(now)) return std::nullopt;
  const TicketId id(heap_.front().id);
  RemoveAt(0);
  return id;
}

}  // namespace kefu::ticketing
