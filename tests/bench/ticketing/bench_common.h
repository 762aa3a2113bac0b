// Shared setup of the ticketing benchmarks: a fresh SQLite file (synchronous=FULL), the ticket
// store, a default cn-office policy and the service.
#pragma once

#include <prometheus/registry.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/database.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"
#include "ticketing/sla_scheduler.h"
#include "ticketing/sqlite_ticket_store.h"
#include "ticketing/ticket_service.h"

namespace kefu::ticketing::bench {

inline std::string TempDirectory() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/kefu-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

class NullOutbox final : public ReplySink {
 public:
  Status Enqueue(storage::Database& db, const OutboundReply& reply) override {
    KEFU_ASSIGN_OR_RETURN(auto* s,
                          db.Prepare("INSERT INTO bench_outbox(event_id, body) VALUES(?, ?)"));
    KEFU_RETURN_IF_ERROR(s->BindAll(reply.event_id, reply.body));
    return s->Run();
  }
};

inline std::shared_ptr<const SlaPolicySet> DefaultPolicies() {
  using std::chrono::minutes;
  CalendarSpec spec;
  spec.name = "cn-office";
  for (size_t d = 0; d < 5; ++d)
    spec.weekly[d] = {"09:00-12:00", "13:30-18:00"};
  spec.holidays = {"2026-10-01..2026-10-07"};
  SlaPolicy p;
  p.name = "default";
  p.calendar = "cn-office";
  for (size_t pr = 0; pr < 4; ++pr) {
    p.targets[pr][static_cast<size_t>(SlaMetric::kFirstResponse)] =
        MetricTarget{minutes(60 / static_cast<int>(pr + 1)), true, {}};
    p.targets[pr][static_cast<size_t>(SlaMetric::kNextResponse)] =
        MetricTarget{minutes(30), true, {}};
    p.targets[pr][static_cast<size_t>(SlaMetric::kResolution)] =
        MetricTarget{minutes(480), true, {}};
  }
  return *SlaPolicySet::Create({p}, {*BusinessCalendar::Create(spec)});
}

struct Stack {
  explicit Stack(const std::string& path, const Clock& clock) {
    // KEFU_BENCH_PAGE_SIZE=<bytes>: create the file with that page size first (storage opens
    // every database in WAL mode before any initializer runs, after which it cannot change).
    if (const char* page_size = std::getenv("KEFU_BENCH_PAGE_SIZE")) {
      sqlite3* raw = nullptr;
      const std::string sql =
          std::string("PRAGMA page_size = ") + page_size + "; PRAGMA journal_mode = WAL;";
      if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK ||
          sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "page size setup failed\n");
        std::abort();
      }
      sqlite3_close(raw);
    }
    storage::DatabaseOptions options;
    options.path = path;
    options.synchronous = storage::DatabaseOptions::Synchronous::kFull;
    // 64 MiB page cache per connection: the working set of 100k tickets does not fit SQLite's
    // 2 MiB default, and every operation would read pages through the kernel.
    const char* extra = std::getenv("KEFU_BENCH_PRAGMAS");
    const std::string pragmas = std::string("PRAGMA cache_size = -65536;") + (extra ? extra : "");
    options.connection_initializers.push_back([pragmas](sqlite3* db) {
      return sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK
                 ? Status::Ok()
                 : Internal("pragmas: " + pragmas);
    });
    auto db = storage::Database::Open(options);
    if (!db.ok() || !SqliteTicketStore::Migrate(**db).ok() ||
        !(*db)
             ->Exec(
                 "CREATE TABLE IF NOT EXISTS bench_outbox(event_id INTEGER PRIMARY KEY, body TEXT)")
             .ok()) {
      std::fprintf(stderr, "setup failed\n");
      std::abort();
    }
    // KEFU_BENCH_CHECKPOINT_PAGES=<n>: WriterOptions::checkpoint_wal_pages (0 = no background
    // checkpointer; SQLite checkpoints inside COMMIT).
    storage::WriterOptions writer_options;
    if (const char* pages = std::getenv("KEFU_BENCH_CHECKPOINT_PAGES")) {
      writer_options.checkpoint_wal_pages = std::atoi(pages);
    }
    writer = std::make_unique<storage::WriterExecutor>(std::move(*db), registry, writer_options);
    reads = std::move(*storage::ReadPool::Open(options, 2));
    store = std::make_unique<SqliteTicketStore>(*writer, *reads, &outbox);
    service = std::make_unique<TicketService>(*store, clock, DefaultPolicies(),
                                              TicketServiceOptions{}, registry);
  }
  // Writer group-commit totals so far (kefu_storage_commit_* histograms) and rows changed on the
  // write connection (sqlite3_total_changes: inserted, updated and deleted rows).
  struct WriterTotals {
    double groups = 0;
    double jobs = 0;
    double commit_seconds = 0;
    double rows = 0;
    double writer_cpu_seconds = 0;  // user + system time of the writer thread
  };
  WriterTotals Totals() const {
    WriterTotals t;
    (void)writer->Run([&t](storage::Database& db) {
      t.rows = static_cast<double>(sqlite3_total_changes64(db.handle()));
      rusage usage{};
      getrusage(RUSAGE_THREAD, &usage);
      auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
      t.writer_cpu_seconds = secs(usage.ru_utime) + secs(usage.ru_stime);
      return Status::Ok();
    });
    for (const auto& family : registry.Collect()) {
      for (const auto& m : family.metric) {
        if (family.name == "kefu_storage_commit_batch_jobs") {
          t.groups += static_cast<double>(m.histogram.sample_count);
          t.jobs += m.histogram.sample_sum;
        } else if (family.name == "kefu_storage_commit_seconds") {
          t.commit_seconds += m.histogram.sample_sum;
        }
      }
    }
    return t;
  }
  // "groups=<n> jobs_per_group=<avg> commit_ms=<avg> rows_per_job=<avg> writer_cpu_us_per_job=
  // <avg>" between two Totals() (the Totals() calls themselves are jobs too). The writer's CPU
  // time per job is the number that the machine's load disturbs least.
  static std::string Describe(const WriterTotals& from, const WriterTotals& to) {
    const double groups = to.groups - from.groups;
    const double jobs = to.jobs - from.jobs;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "groups=%.0f jobs_per_group=%.1f commit_ms=%.2f rows_per_job=%.2f "
                  "writer_cpu_us_per_job=%.1f",
                  groups, groups > 0 ? jobs / groups : 0.0,
                  groups > 0 ? (to.commit_seconds - from.commit_seconds) * 1e3 / groups : 0.0,
                  jobs > 0 ? (to.rows - from.rows) / jobs : 0.0,
                  jobs > 0 ? (to.writer_cpu_seconds - from.writer_cpu_seconds) * 1e6 / jobs : 0.0);
    return buf;
  }
  ~Stack() {
    service.reset();
    store.reset();
    reads.reset();
    writer->Stop();
  }
  prometheus::Registry registry;
  NullOutbox outbox;
  std::unique_ptr<storage::WriterExecutor> writer;
  std::unique_ptr<storage::ReadPool> reads;
  std::unique_ptr<SqliteTicketStore> store;
  std::unique_ptr<TicketService> service;
};

}  // namespace kefu::ticketing::bench
