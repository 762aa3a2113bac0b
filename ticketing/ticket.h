// Ticket values and the status rules of spec §1, as pure functions over values.
//
// A Ticket is the mutable summary row; the append-only TicketEvent list is the truth that
// reports and the SLA pause rebuild read (every change carries actor, time, before and after).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"

namespace kefu::ticketing {

enum class TicketStatus { kNew, kOpen, kPending, kOnHold, kSolved, kClosed };
// Ordered from most to least urgent: a smaller value is a higher priority.
enum class Priority { kUrgent, kHigh, kNormal, kLow };

std::string_view ToString(TicketStatus status);
std::string_view ToString(Priority priority);
// Parse the lower_snake_case names ("on_hold", "urgent"); InvalidArgument naming `field`.
Result<TicketStatus> ParseTicketStatus(std::string_view text, std::string_view field);
Result<Priority> ParsePriority(std::string_view text, std::string_view field);

// Who made a change.
enum class ActorKind { kAgent, kBot, kSystem, kApiToken, kCustomer };
std::string_view ToString(ActorKind kind);
Result<ActorKind> ParseActorKind(std::string_view text, std::string_view field);

struct Actor {
  ActorKind kind = ActorKind::kSystem;
  std::string id;  // agent login, token name, customer id; empty for system/bot
  static Actor System() { return {ActorKind::kSystem, ""}; }
  static Actor Bot() { return {ActorKind::kBot, ""}; }
  static Actor Agent(std::string id) { return {ActorKind::kAgent, std::move(id)}; }
  static Actor Customer(std::string id) { return {ActorKind::kCustomer, std::move(id)}; }
};

struct Ticket {
  TicketId id;
  std::string subject;
  TicketStatus status = TicketStatus::kNew;
  Priority priority = Priority::kNormal;
  std::string group;      // owning skill group; empty = none
  std::string assignee;   // agent id; empty = unassigned
  std::string requester;  // the customer (external id)
  std::string channel;    // "wecom", "wecom_kf", "dingtalk", "api", ...
  std::vector<std::string> tags;
  std::vector<std::string> customer_tags;  // the requester's tags, for SLA policy conditions
  ConversationId conversation;
  TicketId follow_up_of;  // the closed ticket this one follows up, if any
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> solved_at;  // last transition to solved
  std::string sla_policy;              // name of the matched policy; empty = none
  // SLA summary maintained by the engine, for list filters and the scheduler.
  std::string sla_state = "ok";        // ok | warning | breached
  std::optional<TimePoint> next_wake;  // earliest pending warning/breach instant
  int64_t version = 0;                 // bumped on every write
};

enum class EventKind {
  kCreated,       // after = initial status
  kFieldChanged,  // field = status|priority|group|assignee|tags|sla_policy
  kCustomerMessage,
  kAgentReply,  // public reply to the customer
  kBotReply,
  kInternalNote,
  kSlaWarning,  // field = metric name, instance = metric instance, after = due (unix ms)
  kSlaBreach,
  kNotify,    // escalation notification; field = metric, after = who/why
  kFollowUp,  // on the old ticket: after = id of the follow-up ticket
  kMerged,    // field = merged_into (on the merged ticket) | merged_from (on the target),
              // after = the other ticket's id
};
std::string_view ToString(EventKind kind);
Result<EventKind> ParseEventKind(std::string_view text, std::string_view field);

struct TicketEvent {
  int64_t id = 0;  // assigned by the store, ascending per ticket
  TicketId ticket;
  EventKind kind = EventKind::kCreated;
  Actor actor;
  TimePoint at{};
  std::string field;
  std::string before;
  std::string after;
  std::string body;  // message or note text
  int64_t instance = 0;
};

// Whether a status change is allowed: nothing leaves `closed`, `closed` is reached only from
// `solved`, and nothing returns to `new`. FailedPrecondition naming both statuses otherwise.
Status CheckTransition(TicketStatus from, TicketStatus to);

// What a customer message does to the latest ticket of its conversation (spec §1).
enum class CustomerMessageEffect {
  kAppend,    // new/open: just record the message
  kReopen,    // pending/on_hold/solved within the window: back to open
  kFollowUp,  // closed, or solved longer than the reopen window ago: a new linked ticket
};
CustomerMessageEffect EffectOfCustomerMessage(const Ticket& ticket, TimePoint now,
                                              std::chrono::seconds reopen_window);

// Auto-priority: the first message containing any keyword raises the priority (never lowers).
struct AutoPriorityRule {
  std::vector<std::string> keywords;  // substring match, e.g. 紧急, 投诉, 无法登录
  std::vector<std::string> channels;  // empty = any channel
  Priority priority = Priority::kHigh;
};
Priority ApplyAutoPriority(const std::vector<AutoPriorityRule>& rules, std::string_view channel,
                           std::string_view first_message, Priority requested);

// The subject of a ticket opened by a customer message (a hand-off transcript, a new chat): its
// first non-blank line, trimmed, cut to at most `max_chars` code points with "…" when cut. Agents
// scan queues by subject, so it is never empty for a non-blank message.
std::string SubjectFromMessage(std::string_view message, size_t max_chars = 60);

}  // namespace kefu::ticketing
