// SqliteTicketStore: TicketStore on kefu's SQLite (storage::WriterExecutor for units of work,
// storage::ReadPool for reads). Tables: tickets, ticket_events (append-only, enforced by
// triggers; SLA warning/breach unique per metric instance), sla_metric_results.
//
// Units of work keep the tickets they touch in a cache owned by the writer thread (ticket row,
// events without bodies, stored metric rows): the store is the log, and an operation on a cached
// ticket reads nothing back from SQLite. Only this store may write the ticketing tables while it
// is open (a write behind its back would make the cache stale).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"
#include "ticketing/ticket_store.h"

namespace kefu::ticketing {

// Inserts public replies into the channels' durable outbox. Implemented by channels; called on
// the writer thread inside the ticket's transaction, so the reply is sent if and only if the
// ticket change commits. Must insert on `db` (never open another connection) and not commit.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  virtual Status Enqueue(storage::Database& db, const OutboundReply& reply) = 0;
};

class SqliteTicketStore final : public TicketStore {
 public:
  // Applies the ticketing migrations (storage::ApplyMigrations("ticketing", ...)) on the write
  // connection before it is handed to the WriterExecutor. Errors: ApplyMigrations'.
  static Status Migrate(storage::Database& db);
  // The numbered migrations of module "ticketing" (for a composition root applying all modules').
  static const std::vector<storage::Migration>& Migrations();

  // Tickets kept in the writer's cache by default: about 1-2 KB each (ticket, events without
  // bodies, metric rows); closed tickets leave it.
  static constexpr size_t kDefaultCacheCapacity = 200'000;
  // Statements of the write path the store keeps prepared on the writer's connection.
  static constexpr size_t kHotStatements = 6;

  // `writer` and `reads` are not owned and must outlive the store; `replies` may be null (then
  // EnqueueReply fails with FailedPrecondition). `cache_capacity` 0 disables the cache.
  SqliteTicketStore(storage::WriterExecutor& writer, storage::ReadPool& reads,
                    ReplySink* replies = nullptr, size_t cache_capacity = kDefaultCacheCapacity);
  ~SqliteTicketStore() override;

  void Transact(Work work, std::function<void(Status)> done) override;
  Status TransactSync(Work work) override;
  bool OnWriterThread() const override { return writer_.OnWriterThread(); }
  Result<Ticket> Get(TicketId id) override;
  Result<std::vector<TicketEvent>> Events(TicketId id) override;
  Result<std::vector<Ticket>> List(const TicketFilter& filter) override;
  Result<std::vector<std::pair<TicketId, TimePoint>>> LoadTimers()
      override;  // ascending by instant
  Result<std::vector<MetricResult>> Metrics(const MetricQuery& query) override;
  Result<std::vector<MetricResult>> MetricsOf(TicketId id) override;

 private:
  class Tx;
  struct CachedTicket {
    Ticket ticket;
    std::vector<TicketEvent> events;    // bodies dropped: the SLA engine never reads them
    std::vector<MetricResult> metrics;  // as stored in sla_metric_results
  };
  // Writer thread only.
  std::optional<CachedTicket> CacheTake(int64_t id);
  void CacheStore(int64_t id, CachedTicket ticket);
  void CacheEvict(const std::vector<int64_t>& ids);

  storage::WriterExecutor& writer_;
  storage::ReadPool& reads_;
  ReplySink* replies_;
  size_t cache_capacity_;
  std::unordered_map<int64_t, CachedTicket> cache_;  // writer thread only
  // The write connection's statements (owned by its statement cache), writer thread only.
  storage::Database* hot_db_ = nullptr;
  std::array<storage::Statement*, kHotStatements> hot_{};
};

}  // namespace kefu::ticketing
