// Write throughput of the WriterExecutor (group commit) against plain SQLite with one transaction
// per insert, for synchronous=FULL and NORMAL.
//
//   build-*/tests/kefu_storage_bench [--benchmark_filter=...]
//
// The database lives in $KEFU_BENCH_DIR (default: the current directory), so that fsync cost is the
// real disk's; a tmpfs would make FULL look free.
//
// Counters: rows_per_s (acknowledged rows per second), ack_p50_ms / ack_p99_ms (time a poster waits
// from posting to its acknowledgement), commit_mean_ms (COMMIT latency, WriterExecutor only),
// batch_mean (rows per group commit).
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "storage/migrations.h"
#include "storage/writer_executor.h"

namespace kefu::storage {
namespace {

constexpr int kRowsPerIteration = 2000;
constexpr std::string_view kSchema =
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation INTEGER NOT NULL, body TEXT NOT "
    "NULL, created_ms INTEGER NOT NULL);"
    "CREATE INDEX messages_conversation ON messages (conversation, created_ms)";
constexpr std::string_view kInsert =
    "INSERT INTO messages (conversation, body, created_ms) VALUES (?1, ?2, ?3)";

using Clock = std::chrono::steady_clock;

std::string FreshPath(const std::string& name) {
  const char* env = std::getenv("KEFU_BENCH_DIR");
  std::filesystem::path dir = env != nullptr ? env : std::filesystem::current_path().string();
  std::filesystem::path path = dir / ("kefu_storage_bench_" + name + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
  return path.string();
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path + suffix);
}

DatabaseOptions::Synchronous SyncOf(int64_t arg) {
  return arg == 0 ? DatabaseOptions::Synchronous::kNormal : DatabaseOptions::Synchronous::kFull;
}

void ReportLatencies(benchmark::State& state, std::vector<double>& ack_ms, double seconds,
                     int64_t rows) {
  std::sort(ack_ms.begin(), ack_ms.end());
  auto pct = [&](double p) {
    return ack_ms.empty() ? 0.0 : ack_ms[static_cast<size_t>(p * (ack_ms.size() - 1))];
  };
  state.counters["rows_per_s"] = static_cast<double>(rows) / seconds;
  state.counters["ack_p50_ms"] = pct(0.50);
  state.counters["ack_p99_ms"] = pct(0.99);
}

double HistogramMean(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name || family.metric.empty()) continue;
    const auto& h = family.metric[0].histogram;
    return h.sample_count == 0 ? 0 : h.sample_sum / static_cast<double>(h.sample_count);
  }
  return 0;
}

// Args: posting threads, sync (1 = FULL, 0 = NORMAL). Each poster calls Run() per row, like a
// request handler waiting for its write to be durable.
void BM_WriterExecutorRun(benchmark::State& state) {
  const int posters = static_cast<int>(state.range(0));
  DatabaseOptions options;
  options.path = FreshPath("writer");
  options.synchronous = SyncOf(state.range(1));
  prometheus::Registry registry;
  {
    auto db = Database::Open(options);
    if (!db.ok() || !ApplyMigrations(**db, "bench", {{1, "messages", std::string(kSchema)}}).ok()) {
      state.SkipWithError("open/migrate failed");
      return;
    }
  }
  auto writer = WriterExecutor::Open(options, registry);
  if (!writer.ok()) {
    state.SkipWithError(writer.status().ToString().c_str());
    return;
  }
  const std::string body(200, 'x');
  std::vector<double> ack_ms;
  int64_t rows = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::vector<std::vector<double>> per_thread(posters);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < posters; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kRowsPerIteration; i += posters) {
          auto posted = Clock::now();
          Status s = (*writer)->Run([&body, i](Database& db) -> Status {
            KEFU_ASSIGN_OR_RETURN(Statement * st, db.Prepare(kInsert));
            KEFU_RETURN_IF_ERROR(st->BindAll(i % 97, body, i));
            return st->Run();
          });
          if (!s.ok()) std::abort();
          per_thread[t].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - posted).count());
        }
      });
    }
    for (auto& th : threads)
      th.join();
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    rows += kRowsPerIteration;
    for (auto& v : per_thread)
      ack_ms.insert(ack_ms.end(), v.begin(), v.end());
  }
  ReportLatencies(state, ack_ms, seconds, rows);
  state.counters["commit_mean_ms"] = HistogramMean(registry, "kefu_storage_commit_seconds") * 1000;
  state.counters["batch_mean"] = HistogramMean(registry, "kefu_storage_commit_batch_jobs");
  (*writer)->Stop();
  RemoveDb(options.path);
}

// Arg: sync. One thread posts without waiting (at most 1024 jobs in flight), as channel webhooks
// and the bot do: the executor's ceiling when groups are always full.
void BM_WriterExecutorPostPipelined(benchmark::State& state) {
  DatabaseOptions options;
  options.path = FreshPath("pipelined");
  options.synchronous = SyncOf(state.range(0));
  prometheus::Registry registry;
  {
    auto db = Database::Open(options);
    if (!db.ok() || !ApplyMigrations(**db, "bench", {{1, "messages", std::string(kSchema)}}).ok()) {
      state.SkipWithError("open/migrate failed");
      return;
    }
  }
  auto writer = WriterExecutor::Open(options, registry);
  if (!writer.ok()) {
    state.SkipWithError(writer.status().ToString().c_str());
    return;
  }
  const std::string body(200, 'x');
  constexpr int kRows = 20000;
  std::counting_semaphore<1024> in_flight(1024);
  int64_t rows = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::atomic<int> acked{0};
    std::promise<void> all;
    auto start = Clock::now();
    for (int i = 0; i < kRows; ++i) {
      in_flight.acquire();
      (*writer)->Post(
          [&body, i](Database& db) -> Status {
            KEFU_ASSIGN_OR_RETURN(Statement * st, db.Prepare(kInsert));
            KEFU_RETURN_IF_ERROR(st->BindAll(i % 97, body, i));
            return st->Run();
          },
          [&](Status s) {
            if (!s.ok()) std::abort();
            in_flight.release();
            if (++acked == kRows) all.set_value();
          });
    }
    all.get_future().wait();
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    rows += kRows;
  }
  state.counters["rows_per_s"] = static_cast<double>(rows) / seconds;
  state.counters["commit_mean_ms"] = HistogramMean(registry, "kefu_storage_commit_seconds") * 1000;
  state.counters["batch_mean"] = HistogramMean(registry, "kefu_storage_commit_batch_jobs");
  (*writer)->Stop();
  RemoveDb(options.path);
}

// Args: threads, sync. Each thread has its own connection and does BEGIN IMMEDIATE; INSERT; COMMIT
// per row with raw SQLite calls (the naive alternative to a writer executor).
void BM_RawSqliteTransactionPerInsert(benchmark::State& state) {
  const int threads_n = static_cast<int>(state.range(0));
  DatabaseOptions options;
  options.path = FreshPath("raw");
  options.synchronous = SyncOf(state.range(1));
  {
    auto db = Database::Open(options);
    if (!db.ok() || !ApplyMigrations(**db, "bench", {{1, "messages", std::string(kSchema)}}).ok()) {
      state.SkipWithError("open/migrate failed");
      return;
    }
  }
  std::vector<sqlite3*> conns(threads_n, nullptr);
  const char* sync_pragma =
      state.range(1) == 0 ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL";
  for (auto& c : conns) {
    sqlite3_open(options.path.c_str(), &c);
    sqlite3_busy_timeout(c, 10000);
    sqlite3_exec(c, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    sqlite3_exec(c, sync_pragma, nullptr, nullptr, nullptr);
  }
  const std::string body(200, 'x');
  std::vector<double> ack_ms;
  int64_t rows = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::vector<std::vector<double>> per_thread(threads_n);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&, t] {
        sqlite3* c = conns[t];
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(c, kInsert.data(), static_cast<int>(kInsert.size()), &st, nullptr);
        for (int i = t; i < kRowsPerIteration; i += threads_n) {
          auto posted = Clock::now();
          if (sqlite3_exec(c, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
            std::abort();
          }
          sqlite3_bind_int64(st, 1, i % 97);
          sqlite3_bind_text(st, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
          sqlite3_bind_int64(st, 3, i);
          if (sqlite3_step(st) != SQLITE_DONE) std::abort();
          sqlite3_reset(st);
          if (sqlite3_exec(c, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) std::abort();
          per_thread[t].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - posted).count());
        }
        sqlite3_finalize(st);
      });
    }
    for (auto& th : threads)
      th.join();
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    rows += kRowsPerIteration;
    for (auto& v : per_thread)
      ack_ms.insert(ack_ms.end(), v.begin(), v.end());
  }
  ReportLatencies(state, ack_ms, seconds, rows);
  for (auto* c : conns)
    sqlite3_close(c);
  RemoveDb(options.path);
}

void SyncAndThreads(benchmark::internal::Benchmark* b) {
  b->ArgNames({"threads", "full"});
  for (int full : {1, 0}) {
    for (int threads : {1, 4, 16, 64})
      b->Args({threads, full});
  }
}

BENCHMARK(BM_WriterExecutorRun)->Apply(SyncAndThreads)->Iterations(2)->UseRealTime();
BENCHMARK(BM_WriterExecutorPostPipelined)
    ->ArgName("full")
    ->Arg(1)
    ->Arg(0)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_RawSqliteTransactionPerInsert)->Apply(SyncAndThreads)->Iterations(2)->UseRealTime();

}  // namespace
}  // namespace kefu::storage

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
