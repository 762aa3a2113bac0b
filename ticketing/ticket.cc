#include "ticketing/ticket.h"

#include <algorithm>
#include <array>
#include <utility>

namespace kefu::ticketing {
namespace {

constexpr std::array<std::string_view, 6> kStatusNames = {"new",     "open",   "pending",
                                                          "on_hold", "solved", "closed"};
constexpr std::array<std::string_view, 4> kPriorityNames = {"urgent", "high", "normal", "low"};
constexpr std::array<std::string_view, 5> kActorNames = {"agent", "bot", "system", "api_token",
                                                         "customer"};
constexpr std::array<std::string_view, 11> kEventNames = {
    "created",     "field_changed", "customer_message", "agent_reply", "bot_reply", "internal_note",
    "sla_warning", "sla_breach",    "notify",           "follow_up",   "merged"};

template <typename E, size_t N>
Result<E> ParseName(const std::array<std::string_view, N>& names, std::string_view text,
                    std::string_view field, std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  std::string msg(field);
  msg.append(": unknown ").append(what).append(" \"").append(text).append("\" (expected one of");
  for (size_t i = 0; i < N; ++i)
    msg.append(i == 0 ? " " : ", ").append(names[i]);
  msg.append(")");
  return InvalidArgument(std::move(msg));
}

}  // namespace

std::string_view ToString(TicketStatus s) {
  return kStatusNames[static_cast<size_t>(s)];
}
std::string_view ToString(Priority p) {
  return kPriorityNames[static_cast<size_t>(p)];
}
std::string_view ToString(ActorKind k) {
  return kActorNames[static_cast<size_t>(k)];
}
std::string_view ToString(EventKind k) {
  return kEventNames[static_cast<size_t>(k)];
}

Result<TicketStatus> ParseTicketStatus(std::string_view text, std::string_view field) {
  return ParseName<TicketStatus>(kStatusNames, text, field, "status");
}
Result<Priority> ParsePriority(std::string_view text, std::string_view field) {
  return ParseName<Priority>(kPriorityNames, text, field, "priority");
}
Result<ActorKind> ParseActorKind(std::string_view text, std::string_view field) {
  return ParseName<ActorKind>(kActorNames, text, field, "actor kind");
}
Result<EventKind> ParseEventKind(std::string_view text, std::string_view field) {
  return ParseName<EventKind>(kEventNames, text, field, "event kind");
}

Status CheckTransition(TicketStatus from, TicketStatus to) {
  auto refuse = [&](std::string_view why) {
    std::string msg = "status: cannot change from ";
    msg.append(ToString(from)).append(" to ").append(ToString(to)).append(": ").append(why);
    return FailedPrecondition(std::move(msg));
  };
  if (from == to) return Status::Ok();
  if (from == TicketStatus::kClosed) return refuse("a closed ticket is final");
  if (to == TicketStatus::kNew) return refuse("a ticket never returns to new");
  if (to == TicketStatus::kClosed && from != TicketStatus::kSolved) {
    return refuse("only a solved ticket can be closed");
  }
  return Status::Ok();
}

CustomerMessageEffect EffectOfCustomerMessage(const Ticket& ticket, TimePoint now,
                                              std::chrono::seconds reopen_window) {
  switch (ticket.status) {
    case TicketStatus::kNew:
    case TicketStatus::kOpen:
      return CustomerMessageEffect::kAppend;
    case TicketStatus::kPending:
    case TicketStatus::kOnHold:
      return CustomerMessageEffect::kReopen;
    case TicketStatus::kSolved: {
      const TimePoint solved = ticket.solved_at.value_or(ticket.updated_at);
      return now - solved > reopen_window ? CustomerMessageEffect::kFollowUp
                                          : CustomerMessageEffect::kReopen;
    }
    case TicketStatus::kClosed:
      return CustomerMessageEffect::kFollowUp;
  }
  return CustomerMessageEffect::kAppend;
}

Priority ApplyAutoPriority(const std::vector<AutoPriorityRule>& rules, std::string_view channel,
                           std::string_view first_message, Priority requested) {
  Priority result = requested;
  for (const auto& rule : rules) {
    if (!rule.channels.empty() &&
        std::find(rule.channels.begin(), rule.channels.end(), channel) == rule.channels.end()) {
      continue;
    }
    const bool hit = std::any_of(rule.keywords.begin(), rule.keywords.end(), [&](const auto& k) {
      return !k.empty() && first_message.find(k) != std::string_view::npos;
    });
    if (hit && rule.priority < result) result = rule.priority;
  }
  return result;
}

std::string SubjectFromMessage(std::string_view message, size_t max_chars) {
  constexpr std::string_view kBlank = " \t\r\n";
  while (!message.empty()) {
    const size_t end = message.find('\n');
    std::string_view line = message.substr(0, end);
    const size_t first = line.find_first_not_of(kBlank);
    if (first != std::string_view::npos) {
      line = line.substr(first, line.find_last_not_of(kBlank) - first + 1);
      // Count code points by their lead bytes; cut before the first one past the limit.
      size_t chars = 0;
      for (size_t i = 0; i < line.size(); ++i) {
        if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
        if (chars++ == max_chars) return std::string(line.substr(0, i)) + "…";
      }
      return std::string(line);
    }
    if (end == std::string_view::npos) break;
    message.remove_prefix(end + 1);
  }
  return "";
}

}  // namespace kefu::ticketing
