// Ticket operations: 20% create, 60% update (priority/status change with SLA re-evaluation), 20%
// comment (half public replies through the outbox, half internal notes), over a base of open
// tickets, each durably committed (synchronous=FULL, group commit through the WriterExecutor),
// beside raw SQLite inserts of the same rows through the same executor in the same run.
//
// Usage: kefu_ticketing_ops_bench [open_tickets=100000] [ops=200000] [in_flight=1024]
//                                 [sides=both|service|raw]  (one side alone is for profiling)
#include <atomic>
#include <cstdlib>
#include <random>
#include <semaphore>

#include "tests/bench/ticketing/bench_common.h"

namespace kefu::ticketing::bench {
namespace {

constexpr char kRawTicket[] =
    "INSERT INTO tickets(subject, status, priority, grp, requester, channel, created_at_ms, "
    "updated_at_ms, sla_policy, next_wake_ms) VALUES('s', 'new', 'normal', 'support', 'c', "
    "'wecom', ?1, ?1, 'default', ?1)";
constexpr char kRawTicketUpdate[] =
    "UPDATE tickets SET priority = ?2, updated_at_ms = ?3, next_wake_ms = ?3, "
    "version = version + 1 WHERE id = ?1";
constexpr char kRawTicketTouch[] =
    "UPDATE tickets SET updated_at_ms = ?2, version = version + 1 WHERE id = ?1";
constexpr char kRawOutbox[] = "INSERT INTO bench_outbox(event_id, body) VALUES(?, ?)";
constexpr char kRawEvent[] =
    "INSERT INTO ticket_events(ticket_id, kind, actor_kind, at_ms, field, before, after, body) "
    "VALUES(?, 'field_changed', 'agent', ?, 'priority', 'normal', 'high', '')";
// The same upsert the store uses (an instance's start_ms never changes, so its index is kept).
constexpr char kRawMetric[] =
    "INSERT INTO sla_metric_results(ticket_id, metric, instance, policy, priority, grp, "
    "business_hours, start_ms, due_ms, target_minutes, actual_minutes, breached, late_by_minutes, "
    "state) VALUES(?, ?, 0, 'default', 'normal', 'support', 1, ?, ?, 60, 0, 0, 0, 'active') "
    "ON CONFLICT(ticket_id, metric, instance) DO UPDATE SET priority = excluded.priority, "
    "due_ms = excluded.due_ms, state = excluded.state";

template <typename Submit>
double Drive(int ops, int in_flight, Submit submit) {
  std::counting_semaphore<> slots(in_flight);
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < ops; ++i) {
    slots.acquire();
    submit(i, [&](bool ok) {
      if (!ok) failed.fetch_add(1);
      done.fetch_add(1);
      slots.release();
    });
  }
  for (int i = 0; i < in_flight; ++i)
    slots.acquire();
  const double s = Seconds(std::chrono::steady_clock::now() - start);
  if (failed.load() > 0) std::fprintf(stderr, "failed ops: %d\n", failed.load());
  return ops / s;
}

int Main(int argc, char** argv) {
  const int open_tickets = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int ops = argc > 2 ? std::atoi(argv[2]) : 200000;
  const int in_flight = argc > 3 ? std::atoi(argv[3]) : 1024;
  const std::string sides = argc > 4 ? argv[4] : "both";
  const bool run_service = sides != "raw";
  const bool run_raw = sides != "service";
  const std::string dir = TempDirectory();
  FakeClock clock(ParseRfc3339("2026-03-03T10:00:00+08:00").value_or(TimePoint{}));

  double service_ops = 0;
  int64_t tickets_total = 0;
  if (run_service) {
    Stack stack(dir + "/service.db", clock);
    TicketService& svc = *stack.service;
    auto create = [&](int i, auto done) {
      NewTicket n;
      n.subject = "订单问题";
      n.requester = "cust-" + std::to_string(i);
      n.channel = "wecom";
      n.group = "support";
      n.first_message = "你好，我的订单还没发货";
      svc.CreateAsync(std::move(n), Actor::Bot(), [done](Result<Ticket> r) { done(r.ok()); });
    };
    const auto preload_start = std::chrono::steady_clock::now();
    Drive(open_tickets, in_flight, create);
    std::printf("preload open_tickets=%d seconds=%.2f\n", open_tickets,
                Seconds(std::chrono::steady_clock::now() - preload_start));
    std::atomic<int64_t> max_id{open_tickets};
    std::mt19937_64 rng(42);
    const auto before = stack.Totals();
    service_ops = Drive(ops, in_flight, [&](int i, auto done) {
      const int kind = static_cast<int>(rng() % 10);
      const TicketId id(static_cast<int64_t>(rng() % static_cast<uint64_t>(max_id.load())) + 1);
      clock.Advance(std::chrono::milliseconds(1));
      auto cb = [done](Result<Ticket> r) { done(r.ok()); };
      if (kind < 2) {
        max_id.fetch_add(1);
        create(open_tickets + i, done);
      } else if (kind < 8) {
        TicketUpdate u;
        if (kind % 2 == 0) {
          u.priority = static_cast<Priority>(rng() % 4);
        } else {
          u.status = rng() % 2 ? TicketStatus::kOpen : TicketStatus::kPending;
        }
        svc.UpdateAsync(id, std::move(u), Actor::Agent("a1"), cb);
      } else {
        svc.CommentAsync(id, kind == 8 ? CommentKind::kPublicReply : CommentKind::kInternalNote,
                         "您好，已为您处理", Actor::Agent("a1"), cb);
      }
    });
    tickets_total = max_id.load();
    std::printf("service writer %s\n", Stack::Describe(before, stack.Totals()).c_str());
  }
  if (run_service) {
    std::printf("service ops_per_second=%.0f ops=%d open_tickets=%d tickets_at_end=%lld\n",
                service_ops, ops, open_tickets, static_cast<long long>(tickets_total));
  }

  // Raw SQLite: the rows the service writes per operation kind, no reads and no SLA logic, same
  // executor, same settings, same random sequence of kinds and ticket ids:
  //   create         ticket + 2 events (created, first message) + 2 metric rows + ticket update
  //   update         event + 2 metric upserts (priority or pause re-targets them) + ticket update
  //   public reply   event + outbox row + 1 metric upsert (first_response) + ticket update
  //   internal note  event + ticket update (no metric changes, no new wake-up)
  double raw_ops = 0;
  if (run_raw) {
    Stack stack(dir + "/raw.db", clock);
    storage::WriterExecutor& w = *stack.writer;
    const int64_t now = 1'772'503'200'000;
    auto event = [now](storage::Database& db, int64_t id) -> Status {
      KEFU_ASSIGN_OR_RETURN(auto* ev, db.Prepare(kRawEvent));
      KEFU_RETURN_IF_ERROR(ev->BindAll(id, now));
      return ev->Run();
    };
    auto metric = [now](storage::Database& db, int64_t id, const char* m) -> Status {
      KEFU_ASSIGN_OR_RETURN(auto* mr, db.Prepare(kRawMetric));
      KEFU_RETURN_IF_ERROR(mr->BindAll(id, m, now, now));
      return mr->Run();
    };
    auto update = [now](storage::Database& db, int64_t id) -> Status {
      KEFU_ASSIGN_OR_RETURN(auto* u, db.Prepare(kRawTicketUpdate));
      KEFU_RETURN_IF_ERROR(u->BindAll(id, "high", now));
      return u->Run();
    };
    auto insert_ticket = [&](auto done) {
      w.Post(
          [=](storage::Database& db) -> Status {
            KEFU_ASSIGN_OR_RETURN(auto* t, db.Prepare(kRawTicket));
            KEFU_RETURN_IF_ERROR(t->Bind(1, now));
            KEFU_RETURN_IF_ERROR(t->Run());
            const int64_t id = db.LastInsertRowId();
            KEFU_RETURN_IF_ERROR(event(db, id));
            KEFU_RETURN_IF_ERROR(event(db, id));
            KEFU_RETURN_IF_ERROR(metric(db, id, "first_response"));
            KEFU_RETURN_IF_ERROR(metric(db, id, "resolution"));
            return update(db, id);
          },
          [done](Status s) { done(s.ok()); });
    };
    Drive(open_tickets, in_flight, [&](int, auto done) { insert_ticket(done); });
    std::atomic<int64_t> max_id{open_tickets};
    std::mt19937_64 rng(42);
    const auto before = stack.Totals();
    raw_ops = Drive(ops, in_flight, [&](int, auto done) {
      const int kind = static_cast<int>(rng() % 10);
      const int64_t id = static_cast<int64_t>(rng() % static_cast<uint64_t>(max_id.load())) + 1;
      if (kind < 2) {
        max_id.fetch_add(1);
        insert_ticket(done);
        return;
      }
      if (kind < 8) (void)rng();  // the service draws the new priority or status
      w.Post(
          [=](storage::Database& db) -> Status {
            KEFU_RETURN_IF_ERROR(event(db, id));
            if (kind == 9) {
              KEFU_ASSIGN_OR_RETURN(auto* u, db.Prepare(kRawTicketTouch));
              KEFU_RETURN_IF_ERROR(u->BindAll(id, now));
              return u->Run();
            }
            if (kind == 8) {
              KEFU_ASSIGN_OR_RETURN(auto* o, db.Prepare(kRawOutbox));
              KEFU_RETURN_IF_ERROR(o->BindAll(db.LastInsertRowId(), "您好，已为您处理"));
              KEFU_RETURN_IF_ERROR(o->Run());
              KEFU_RETURN_IF_ERROR(metric(db, id, "first_response"));
            } else {
              KEFU_RETURN_IF_ERROR(metric(db, id, "first_response"));
              KEFU_RETURN_IF_ERROR(metric(db, id, "resolution"));
            }
            return update(db, id);
          },
          [done](Status s) { done(s.ok()); });
    });
    std::printf("raw writer %s\n", Stack::Describe(before, stack.Totals()).c_str());
  }
  if (run_raw) std::printf("raw_sqlite ops_per_second=%.0f\n", raw_ops);
  if (run_service && run_raw) std::printf("ratio_service_over_raw=%.2f\n", service_ops / raw_ops);
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace kefu::ticketing::bench

int main(int argc, char** argv) {
  return kefu::ticketing::bench::Main(argc, argv);
}
