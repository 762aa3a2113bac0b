// Test harness: a real SQLite ticket store in a temp dir, a FakeClock, the service and the
// scheduler, which can be torn down and rebuilt on the same file to simulate a restart.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "storage/database.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"
#include "tests/support/temp_dir.h"
#include "ticketing/sla_scheduler.h"
#include "ticketing/sqlite_ticket_store.h"
#include "ticketing/ticket_service.h"

namespace kefu::ticketing::testing {

// Records replies and inserts them into a table in the same transaction, like the outbox does.
class FakeOutbox final : public ReplySink {
 public:
  Status Enqueue(storage::Database& db, const OutboundReply& reply) override {
    if (fail_next.exchange(false)) return Unavailable("fake outbox: refused");
    KEFU_RETURN_IF_ERROR(
        db.Exec("CREATE TABLE IF NOT EXISTS fake_outbox(event_id INTEGER PRIMARY KEY, body TEXT)"));
    KEFU_ASSIGN_OR_RETURN(auto* s,
                          db.Prepare("INSERT INTO fake_outbox(event_id, body) VALUES(?, ?)"));
    KEFU_RETURN_IF_ERROR(s->BindAll(reply.event_id, reply.body));
    KEFU_RETURN_IF_ERROR(s->Run());
    std::lock_guard lock(mu);
    replies.push_back(reply);
    return Status::Ok();
  }
  std::atomic<bool> fail_next{false};  // the next Enqueue fails (its unit of work rolls back)
  std::mutex mu;
  std::vector<OutboundReply> replies;
};

class FakeNotifier final : public SlaNotifier {
 public:
  void Notify(const SlaNotification& n) override {
    std::lock_guard lock(mu);
    seen.push_back(n);
  }
  size_t count() {
    std::lock_guard lock(mu);
    return seen.size();
  }
  std::mutex mu;
  std::vector<SlaNotification> seen;
};

inline TimePoint At(std::string_view s) {
  return ParseRfc3339(s).value_or(TimePoint{});
}

inline std::shared_ptr<const BusinessCalendar> OfficeCalendar() {
  CalendarSpec spec;
  spec.name = "cn-office";
  for (size_t d = 0; d < 5; ++d)
    spec.weekly[d] = {"09:00-12:00", "13:30-18:00"};
  spec.holidays = {"2026-10-01..2026-10-07"};
  spec.working_days = {{"2026-10-10", {"09:00-12:00", "13:30-18:00"}}};
  return *BusinessCalendar::Create(spec);
}

// normal: first_response 60, next_response 30, resolution 480 (business minutes);
// urgent: first_response 15; breach of first_response raises to high and notifies supervisors.
inline SlaPolicy DefaultPolicy() {
  using std::chrono::minutes;
  SlaPolicy p;
  p.name = "default";
  p.calendar = "cn-office";
  auto& normal = p.targets[static_cast<size_t>(Priority::kNormal)];
  normal[static_cast<size_t>(SlaMetric::kFirstResponse)] = MetricTarget{minutes(60), true, {}};
  normal[static_cast<size_t>(SlaMetric::kNextResponse)] = MetricTarget{minutes(30), true, {}};
  normal[static_cast<size_t>(SlaMetric::kResolution)] = MetricTarget{minutes(480), true, {}};
  auto& high = p.targets[static_cast<size_t>(Priority::kHigh)];
  high = normal;
  high[static_cast<size_t>(SlaMetric::kFirstResponse)] = MetricTarget{minutes(30), true, {}};
  auto& urgent = p.targets[static_cast<size_t>(Priority::kUrgent)];
  urgent = normal;
  urgent[static_cast<size_t>(SlaMetric::kFirstResponse)] = MetricTarget{minutes(15), true, {}};
  EscalationAction raise;
  raise.on = EscalationAction::On::kBreach;
  raise.metric = SlaMetric::kFirstResponse;
  raise.kind = EscalationAction::Kind::kRaisePriority;
  EscalationAction notify;
  notify.on = EscalationAction::On::kBreach;
  notify.kind = EscalationAction::Kind::kNotify;
  notify.notify = "supervisors";
  p.escalations = {raise, notify};
  return p;
}

class Harness {
 public:
  explicit Harness(std::vector<SlaPolicy> policies = {DefaultPolicy()},
                   TimePoint start = At("2026-03-03T09:00:00+08:00"))
      : clock(start), policies_(std::move(policies)) {
    Open();
  }
  ~Harness() { Close(); }

  // Opens the store on the same file and rebuilds service and scheduler from it.
  void Open() {
    storage::DatabaseOptions options;
    options.path = dir.File("kefu.db");
    options.synchronous = storage::DatabaseOptions::Synchronous::kNormal;
    auto db = storage::Database::Open(options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_TRUE(SqliteTicketStore::Migrate(**db).ok());
    registry = std::make_unique<prometheus::Registry>();
    writer = std::make_unique<storage::WriterExecutor>(std::move(*db), *registry);
    reads = std::move(*storage::ReadPool::Open(options, 2));
    store = std::make_unique<SqliteTicketStore>(*writer, *reads, &outbox);
    auto set = SlaPolicySet::Create(policies_, {OfficeCalendar()});
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    TicketServiceOptions opts;
    opts.auto_priority = {{{"紧急", "投诉", "无法登录"}, {}, Priority::kHigh}};
    service = std::make_unique<TicketService>(*store, clock, *set, opts, *registry, &notifier);
    scheduler = std::make_unique<SlaScheduler>(*service, clock);
    EXPECT_TRUE(scheduler->Rebuild().ok());
  }
  // Simulates a process exit: everything in memory is gone, the file stays.
  void Close() {
    scheduler.reset();
    service.reset();
    store.reset();
    reads.reset();
    if (writer) writer->Stop();
    writer.reset();
    registry.reset();
  }
  void Restart() {
    Close();
    Open();
  }

  Ticket NewTicket(std::string first_message = "你好，我的订单有问题") {
    ticketing::NewTicket n;
    n.subject = "订单问题";
    n.requester = "cust-1";
    n.channel = "wecom";
    n.conversation = ConversationId(++conversations_);
    n.group = "support";
    n.first_message = std::move(first_message);
    auto t = service->Create(n, Actor::Bot());
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.value_or(Ticket{});
  }

  std::vector<TicketEvent> EventsOf(TicketId id, EventKind kind) {
    std::vector<TicketEvent> out;
    auto events = store->Events(id);
    EXPECT_TRUE(events.ok());
    for (const auto& e : events.value_or({})) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }

  std::optional<MetricResult> Result(TicketId id, SlaMetric m, int64_t instance = 0) {
    auto all = store->Metrics({});
    EXPECT_TRUE(all.ok());
    for (const auto& r : all.value_or({})) {
      if (r.ticket == id && r.metric == m && r.instance == instance) return r;
    }
    return std::nullopt;
  }

  kefu::testing::TempDir dir;
  FakeClock clock;
  FakeOutbox outbox;
  FakeNotifier notifier;
  std::unique_ptr<prometheus::Registry> registry;
  std::unique_ptr<storage::WriterExecutor> writer;
  std::unique_ptr<storage::ReadPool> reads;
  std::unique_ptr<SqliteTicketStore> store;
  std::unique_ptr<TicketService> service;
  std::unique_ptr<SlaScheduler> scheduler;

 private:
  std::vector<SlaPolicy> policies_;
  int64_t conversations_ = 0;
};

}  // namespace kefu::ticketing::testing
