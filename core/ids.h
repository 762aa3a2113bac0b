// Typed ids: a TicketId cannot be passed where a ConversationId is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace kefu {

template <typename Tag>
class Id {
 public:
  constexpr Id() = default;
  constexpr explicit Id(int64_t value) : value_(value) {}
  constexpr int64_t value() const { return value_; }
  constexpr bool valid() const { return value_ > 0; }
  std::string ToString() const { return std::to_string(value_); }
  friend constexpr auto operator<=>(Id, Id) = default;

 private:
  int64_t value_ = 0;
};

using CustomerId = Id<struct CustomerTag>;
using ConversationId = Id<struct ConversationTag>;
using MessageId = Id<struct MessageTag>;
using TicketId = Id<struct TicketTag>;
using AgentId = Id<struct AgentTag>;
using OutboxId = Id<struct OutboxTag>;

}  // namespace kefu

template <typename Tag>
struct std::hash<kefu::Id<Tag>> {
  size_t operator()(kefu::Id<Tag> id) const noexcept { return std::hash<int64_t>{}(id.value()); }
};
