// TimerHeap: one pending instant per ticket in a compact indexed 4-ary min-heap.
//
// Memory: 16 bytes per heap entry plus 4 bytes per ticket id up to the largest id scheduled (ids
// are dense SQLite rowids), i.e. ~20 bytes per active timer. Set/Cancel/PopDue are O(log n).
// Not thread-safe (SlaScheduler guards it).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"

namespace kefu::ticketing {

class TimerHeap {
 public:
  // Schedules (or moves) the ticket's timer to `at`.
  void Set(TicketId id, TimePoint at);
  // Removes the ticket's timer if any.
  void Cancel(TicketId id);
  // The earliest instant, if any.
  std::optional<TimePoint> Earliest() const;
  // Removes and returns the ticket of the earliest timer if it is due at `now`.
  std::optional<TicketId> PopDue(TimePoint now);
  size_t size() const { return heap_.size(); }
  bool Contains(TicketId id) const;
  void Reserve(size_t timers, int64_t max_id);
  // Bytes held by the heap and the position index (capacity, not size).
  size_t MemoryBytes() const;

 private:
  struct Entry {
    int64_t at_ms;
    int64_t id;
  };
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void Place(size_t i, const Entry& e);
  void RemoveAt(size_t i);

  std::vector<Entry> heap_;
  std::vector<uint32_t> pos_;  // pos_[id] = heap index + 1; 0 = not scheduled
};

}  // namespace kefu::ticketing
