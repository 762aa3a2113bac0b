// Fakes of the conversation engine's ports for bot tests. The ledger and outbox keep their rows
// in real tables of the test database (kFakeSchema), so a test sees exactly what one transaction
// committed.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bot/engine_ports.h"
#include "storage/database.h"

namespace kefu::bot::fakes {

// Matcher fake: fixed results per query; anything else has no candidates.
class FakeMatcher final : public FaqMatcher {
 public:
  void Set(std::string query, std::vector<MatchCandidate> c) { results_[query] = {std::move(c)}; }
  Result<MatchResult> Match(std::string_view query, const std::string&, int) const override {
    ++calls;
    const auto it = results_.find(std::string(query));
    return it == results_.end() ? MatchResult{} : it->second;
  }
  mutable std::atomic<int> calls{0};

 private:
  std::map<std::string, MatchResult> results_;
};

inline constexpr std::string_view kFakeSchema = R"sql(
CREATE TABLE fake_inbound (id INTEGER PRIMARY KEY, processed_at_ms INTEGER NOT NULL);
CREATE TABLE fake_outbox (id INTEGER PRIMARY KEY, idempotency_key TEXT UNIQUE NOT NULL,
  destination TEXT NOT NULL, purpose TEXT NOT NULL, format TEXT NOT NULL, text TEXT NOT NULL,
  message_id INTEGER NOT NULL);
CREATE TABLE fake_tickets (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL,
  reason TEXT NOT NULL, note TEXT NOT NULL, transcript TEXT NOT NULL);
CREATE TABLE fake_ticket_messages (ticket_id INTEGER NOT NULL, content TEXT NOT NULL);
)sql";

class FakeLedger final : public InboundLedger {
 public:
  Result<bool> MarkProcessed(storage::Database& db, int64_t id, TimePoint now) override {
    KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare("INSERT INTO fake_inbound VALUES (?1, ?2) "
                                               "ON CONFLICT DO NOTHING"));
    KEFU_RETURN_IF_ERROR(st->BindAll(id, ToUnixMs(now)));
    KEFU_RETURN_IF_ERROR(st->Run());
    return db.Changes() == 1;
  }
};

class FakeOutbox final : public ReplyOutbox {
 public:
  Status Enqueue(storage::Database& db, const OutboundReply& r) override {
    if (fail || (!fail_destination.empty() && r.destination == fail_destination)) {
      return Unavailable("outbox down");
    }
    KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare("INSERT INTO fake_outbox (idempotency_key, "
                                               "destination, purpose, format, text, message_id) "
                                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    KEFU_RETURN_IF_ERROR(
        st->BindAll(r.idempotency_key, r.destination, ReplyPurposeName(r.reply.purpose),
                    ReplyFormatName(r.reply.format), r.reply.text, r.message_id.value()));
    return st->Run();
  }
  void Committed() override {
    if (on_committed) on_committed();
    ++committed;
  }
  std::atomic<bool> fail{false};
  std::atomic<int> committed{0};
  // Runs in Committed() (on the writer thread), e.g. to look at the table from another connection.
  std::function<void()> on_committed;
  // Replies to this customer fail (set before the messages are submitted).
  std::string fail_destination;
};

}  // namespace kefu::bot::fakes
