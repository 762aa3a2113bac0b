#include "bot/ticketing_handoff_desk.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace kefu::bot {
namespace {

constexpr std::string_view kEnqueue = R"sql(
INSERT INTO ticket_handoff_queue (kind, conversation_id, requester, channel, body, note,
                                  created_at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
)sql";

constexpr std::string_view kOwnOpenQueued = R"sql(
SELECT COUNT(*) FROM ticket_handoff_queue
WHERE kind = 'open' AND conversation_id = ?1 AND done_at_ms IS NULL
)sql";

// Queued "open" rows up to and including the conversation's own.
constexpr std::string_view kQueuedOpensUpTo = R"sql(
SELECT COUNT(*) FROM ticket_handoff_queue
WHERE kind = 'open' AND done_at_ms IS NULL
  AND id <= (SELECT MAX(id) FROM ticket_handoff_queue
             WHERE kind = 'open' AND conversation_id = ?1 AND done_at_ms IS NULL)
)sql";

constexpr std::string_view kOldestQueued = R"sql(
SELECT id, kind, conversation_id, requester, channel, body, note
FROM ticket_handoff_queue WHERE done_at_ms IS NULL ORDER BY id LIMIT 1
)sql";

constexpr std::string_view kMarkDone = R"sql(
UPDATE ticket_handoff_queue SET done_at_ms = ?2, ticket_id = ?3 WHERE id = ?1
)sql";

constexpr std::string_view kSetConversationTicket = R"sql(
UPDATE conversations SET ticket_id = ?2 WHERE id = ?1
)sql";

Result<int> Count(storage::Database& db, std::string_view sql, int64_t arg) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(sql));
  KEFU_RETURN_IF_ERROR(st->Bind(1, arg));
  KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
  const int n = row ? st->ColumnInt(0) : 0;
  st->Reset();
  return n;
}

std::string_view SenderLabel(SenderKind s) {
  switch (s) {
    case SenderKind::kCustomer:
      return "客户";
    case SenderKind::kBot:
      return "机器人";
    case SenderKind::kAgent:
      return "客服";
    case SenderKind::kSystem:
      return "系统";
  }
  return "系统";
}

}  // namespace

std::string FormatTranscript(const std::vector<ConversationMessage>& messages) {
  std::string out;
  for (const auto& m : messages) {
    if (!out.empty()) out += '\n';
    out.append(SenderLabel(m.sender)).append("：").append(m.content);
  }
  return out;
}

TicketingHandoffDesk::TicketingHandoffDesk(ticketing::TicketService& service,
                                           storage::WriterExecutor& writer, const Clock& clock,
                                           TicketingHandoffOptions options)
    : service_(service), writer_(writer), clock_(clock), options_(std::move(options)) {}

TicketingHandoffDesk::~TicketingHandoffDesk() {
  Stop();
}

ServiceWindow TicketingHandoffDesk::WindowFor(const Conversation&, TimePoint now) {
  if (!options_.calendar || options_.calendar->IsOpen(now)) return {true, std::nullopt};
  return {false, options_.calendar->NextOpening(now)};
}

Result<int> TicketingHandoffDesk::UnassignedNewTickets(std::optional<TicketId> up_to) {
  ticketing::TicketFilter f;
  f.status = ticketing::TicketStatus::kNew;
  f.assignee = "";
  f.limit = 500;
  int n = 0;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(auto page, service_.store().List(f));
    for (const auto& t : page) {
      if (!up_to || t.id <= *up_to) ++n;
    }
    if (static_cast<int>(page.size()) < f.limit || (up_to && page.back().id >= *up_to)) break;
    f.after_id = page.back().id.value();
  }
  return n;
}

Result<HandoffTicket> TicketingHandoffDesk::OpenHandoff(storage::Database& db,
                                                        const HandoffRequest& req) {
  std::string body = req.action.last_question;
  if (body.empty()) body = "（客户请求人工服务）";
  const std::string note =
      req.action.summary_note + "\n\n【对话记录】\n" + FormatTranscript(req.transcript);
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kEnqueue));
  KEFU_RETURN_IF_ERROR(st->BindAll("open", req.conversation.id.value(), req.customer.external_id,
                                   req.conversation.channel, body, note, ToUnixMs(req.now)));
  KEFU_RETURN_IF_ERROR(st->Run());
  KEFU_ASSIGN_OR_RETURN(const int position, QueuePosition(db, req.conversation));
  return HandoffTicket{std::nullopt, position};
}

Result<int> TicketingHandoffDesk::QueuePosition(storage::Database& db,
                                                const Conversation& conversation) {
  KEFU_ASSIGN_OR_RETURN(const int own_queued, Count(db, kOwnOpenQueued, conversation.id.value()));
  // The store's reads see committed tickets only: exactly the ones already ahead.
  std::optional<TicketId> up_to;
  int queued_ahead = 0;
  if (own_queued > 0) {
    KEFU_ASSIGN_OR_RETURN(queued_ahead, Count(db, kQueuedOpensUpTo, conversation.id.value()));
  } else if (conversation.ticket_id) {
    up_to = conversation.ticket_id;
  }
  auto tickets = UnassignedNewTickets(up_to);
  if (!tickets.ok()) {
    spdlog::warn("bot queue position without ticket counts error={}", tickets.status().ToString());
  }
  const int position = tickets.value_or(0) + queued_ahead;
  return position > 0 ? position : 1;
}

Status TicketingHandoffDesk::AppendCustomerMessage(storage::Database& db,
                                                   const Conversation& conversation,
                                                   const ConversationMessage& message) {
  if (message.content.empty()) return Status::Ok();
  KEFU_ASSIGN_OR_RETURN(auto customer, store_.FindCustomer(db, conversation.customer_id));
  if (!customer) return NotFound("customer " + conversation.customer_id.ToString());
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kEnqueue));
  KEFU_RETURN_IF_ERROR(st->BindAll("message", conversation.id.value(), customer->external_id,
                                   conversation.channel, message.content, "",
                                   ToUnixMs(message.created_at)));
  return st->Run();
}

Result<HumanOwnership> TicketingHandoffDesk::Ownership(storage::Database& db,
                                                       const Conversation& conversation) {
  KEFU_ASSIGN_OR_RETURN(const int queued, Count(db, kOwnOpenQueued, conversation.id.value()));
  if (queued > 0 || !conversation.ticket_id) return HumanOwnership{};
  auto ticket = service_.store().Get(*conversation.ticket_id);
  if (!ticket.ok()) {
    spdlog::warn("bot ticket lookup failed conversation_id={} error={}", conversation.id.value(),
                 ticket.status().ToString());
    return HumanOwnership{};
  }
  if (ticket->status == ticketing::TicketStatus::kSolved ||
      ticket->status == ticketing::TicketStatus::kClosed) {
    return HumanOwnership{HumanOwnership::Kind::kReleased, ""};
  }
  if (!ticket->assignee.empty()) {
    return HumanOwnership{HumanOwnership::Kind::kAgent, ticket->assignee};
  }
  return HumanOwnership{};
}

void TicketingHandoffDesk::Committed() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

Status TicketingHandoffDesk::Process(const Row& row) {
  ticketing::CustomerMessage m;
  m.conversation = row.conversation;
  m.requester = row.requester;
  m.channel = row.channel;
  m.body = row.body;
  KEFU_ASSIGN_OR_RETURN(ticketing::Ticket ticket, service_.OnCustomerMessage(m));
  if (row.kind == "open") {
    auto noted = service_.Comment(ticket.id, ticketing::CommentKind::kInternalNote, row.note,
                                  ticketing::Actor::Bot());
    if (!noted.ok()) return noted.status();
    if (!options_.group.empty() && ticket.group.empty()) {
      ticketing::TicketUpdate u;
      u.group = options_.group;
      auto updated = service_.Update(ticket.id, u, ticketing::Actor::Bot());
      if (!updated.ok()) return updated.status();
    }
  }
  const TicketId ticket_id = ticket.id;
  return writer_.Run([&](storage::Database& db) -> Status {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * done, db.Prepare(kMarkDone));
    KEFU_RETURN_IF_ERROR(done->BindAll(row.id, clock_.NowUnixMs(), ticket_id.value()));
    KEFU_RETURN_IF_ERROR(done->Run());
    KEFU_ASSIGN_OR_RETURN(storage::Statement * set, db.Prepare(kSetConversationTicket));
    KEFU_RETURN_IF_ERROR(set->BindAll(row.conversation.value(), ticket_id.value()));
    return set->Run();
  });
}

Result<bool> TicketingHandoffDesk::ProcessOne() {
  std::optional<Row> row;
  KEFU_RETURN_IF_ERROR(writer_.Run([&](storage::Database& db) -> Status {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kOldestQueued));
    KEFU_ASSIGN_OR_RETURN(const bool has, st->Step());
    if (has) {
      row = Row{st->ColumnInt64(0), st->ColumnText(1), ConversationId(st->ColumnInt64(2)),
                st->ColumnText(3),  st->ColumnText(4), st->ColumnText(5),
                st->ColumnText(6)};
    }
    st->Reset();
    return Status::Ok();
  }));
  if (!row) return false;
  KEFU_RETURN_IF_ERROR(Process(*row));
  return true;
}

Status TicketingHandoffDesk::DrainForTest() {
  while (true) {
    KEFU_ASSIGN_OR_RETURN(const bool did, ProcessOne());
    if (!did) return Status::Ok();
  }
}

void TicketingHandoffDesk::Subscribe(HandoffEvents* events) {
  if (events == nullptr) {
    service_.SetChangeHook(nullptr);
    return;
  }
  service_.SetChangeHook([events](const ticketing::Ticket& t) {
    // A ticket still (or newly) in the queue moves nobody ahead of it.
    if (t.status == ticketing::TicketStatus::kNew && t.assignee.empty()) return;
    const bool done = t.status == ticketing::TicketStatus::kSolved ||
                      t.status == ticketing::TicketStatus::kClosed;
    if (t.conversation.valid() && !t.assignee.empty() && !done) {
      events->AgentAssigned(t.conversation, t.assignee);
    }
    events->QueueChanged();
  });
}

void TicketingHandoffDesk::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  wake_ = true;  // resume rows left by a previous run
  thread_ = std::thread([this] { Loop(); });
}

void TicketingHandoffDesk::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TicketingHandoffDesk::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return wake_ || stopping_; });
      if (stopping_) return;
      wake_ = false;
    }
    while (true) {
      auto did = ProcessOne();
      if (did.ok() && !*did) break;
      if (!did.ok()) {
        spdlog::warn("bot hand-off ticket call failed, retrying error={}", did.status().ToString());
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, options_.retry_delay, [&] { return stopping_; })) return;
      }
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
  }
}

}  // namespace kefu::bot
