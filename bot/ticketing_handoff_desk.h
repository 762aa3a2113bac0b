// TicketingHandoffDesk: the engine's HandoffDesk over ticketing::TicketService.
//
// TicketService runs each operation as its own writer job, so it cannot join the engine's job.
// The desk therefore queues the work durably INSIDE the engine's transaction (table
// ticket_handoff_queue, bot migration 3) and a worker thread carries it out after the commit:
//   "open":    TicketService::OnCustomerMessage (opens, reopens or follows up the conversation's
//              ticket), an internal note with the bot summary and the whole transcript, the
//              hand-off group (if configured), then the ticket id is recorded on the conversation;
//   "message": TicketService::OnCustomerMessage with the customer's text.
// Rows are done in id order; a failing row is retried (after `retry_delay`) before later rows.
// A crash after a ticket call and before the row is marked done repeats that call once at the next
// start (the ticket may then show the message twice; no ticket is lost).
//
// Queue position = unassigned `new` tickets (ticketing's store) + "open" rows still queued ahead
// of this conversation, + 1.
//
// Threads: the HandoffDesk calls run on the writer thread; Start/Stop/DrainForTest on the main
// thread. The worker calls TicketService synchronously (never on the writer thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bot/engine_ports.h"
#include "bot/sqlite_conversation_store.h"
#include "storage/writer_executor.h"
#include "ticketing/calendar.h"
#include "ticketing/ticket_service.h"

namespace kefu::bot {

struct TicketingHandoffOptions {
  // Skill group set on hand-off tickets that have none ("" = leave to routing).
  std::string group;
  // Service hours of human agents; null = always open.
  std::shared_ptr<const ticketing::BusinessCalendar> calendar;
  // Wait before retrying a row whose ticket call failed.
  std::chrono::milliseconds retry_delay{5000};
};

class TicketingHandoffDesk final : public HandoffDesk {
 public:
  // `service`, `writer` and `clock` must outlive the desk.
  TicketingHandoffDesk(ticketing::TicketService& service, storage::WriterExecutor& writer,
                       const Clock& clock, TicketingHandoffOptions options);
  // Stop().
  ~TicketingHandoffDesk() override;
  TicketingHandoffDesk(const TicketingHandoffDesk&) = delete;
  TicketingHandoffDesk& operator=(const TicketingHandoffDesk&) = delete;

  ServiceWindow WindowFor(const Conversation& conversation, TimePoint now) override;
  Result<HandoffTicket> OpenHandoff(storage::Database& db, const HandoffRequest& req) override;
  Result<int> QueuePosition(storage::Database& db, const Conversation& conversation) override;
  Status AppendCustomerMessage(storage::Database& db, const Conversation& conversation,
                               const ConversationMessage& message) override;
  // Queued while the conversation's "open" row waits or its ticket is unassigned; kAgent (the
  // assignee) once assigned; kReleased when the ticket is solved or closed.
  Result<HumanOwnership> Ownership(storage::Database& db,
                                   const Conversation& conversation) override;
  void Committed() override;
  // Hooks ticketing's change events (TicketService::SetChangeHook): a hand-off ticket that gets
  // an assignee -> events->AgentAssigned; any ticket leaving the unassigned-new queue ->
  // events->QueueChanged. nullptr unhooks.
  void Subscribe(HandoffEvents* events) override;

  // Starts the worker, which first resumes rows left by a previous run.
  void Start();
  // Finishes the row in progress and joins the worker. Idempotent.
  void Stop();
  // Processes every queued row on the caller's thread (tests; the worker must not be started).
  // Returns the first error.
  Status DrainForTest();

 private:
  struct Row {
    int64_t id = 0;
    std::string kind;
    ConversationId conversation;
    std::string requester;
    std::string channel;
    std::string body;
    std::string note;
  };
  // Unassigned `new` tickets (with id <= up_to when given).
  Result<int> UnassignedNewTickets(std::optional<TicketId> up_to);
  // Does the oldest queued row; false when none is queued.
  Result<bool> ProcessOne();
  Status Process(const Row& row);
  void Loop();

  ticketing::TicketService& service_;
  storage::WriterExecutor& writer_;
  const Clock& clock_;
  const TicketingHandoffOptions options_;
  SqliteConversationStore store_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;      // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

// The transcript as the agent reads it: one "客户：..." / "机器人：..." line per message.
std::string FormatTranscript(const std::vector<ConversationMessage>& messages);

}  // namespace kefu::bot
