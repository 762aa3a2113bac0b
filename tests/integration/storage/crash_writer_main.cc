// kefu_storage_crash_writer: a write stream for the crash-safety test.
//
//   kefu_storage_crash_writer DB_PATH [full|normal] [POSTERS]
//
// Opens DB_PATH (migrations, quick_check), then POSTERS threads post single-row insert jobs to a
// WriterExecutor forever, continuing after the largest id already stored. Each id is written to
// stdout ("<id>\n", unbuffered) only from its done callback with an ok Status, i.e. after its
// COMMIT returned. The parent kills this process with SIGKILL at a random moment.
#include <prometheus/registry.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "storage/migrations.h"
#include "storage/writer_executor.h"
#include "tests/integration/storage/crash_schema.h"

namespace {

void WriteAll(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n <= 0) _exit(3);  // the reader is gone
    off += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kefu::storage;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DB_PATH [full|normal] [POSTERS]\n", argv[0]);
    return 2;
  }
  // stdout carries only acknowledged ids.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("stderr"));
  DatabaseOptions options;
  options.path = argv[1];
  if (argc > 2 && std::strcmp(argv[2], "normal") == 0) {
    options.synchronous = DatabaseOptions::Synchronous::kNormal;
  }
  int posters = argc > 3 ? std::atoi(argv[3]) : 4;

  auto db = Database::Open(options);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  if (kefu::Status s = ApplyMigrations(**db, kefu::crash::kModule, kefu::crash::Migrations());
      !s.ok()) {
    std::fprintf(stderr, "migrate: %s\n", s.ToString().c_str());
    return 1;
  }
  auto start = (*db)->Prepare(kefu::crash::kMaxId);
  if (!start.ok() || !(*start)->Step().ok()) return 1;
  std::atomic<int64_t> next_id{(*start)->ColumnInt64(0) + 1};
  (*start)->Reset();

  prometheus::Registry registry;
  WriterExecutor writer(std::move(db).value(), registry);
  // Bounded in-flight work, like request handlers waiting for their writes.
  std::counting_semaphore<1024> in_flight(256);
  std::vector<std::thread> threads;
  for (int t = 0; t < posters; ++t) {
    threads.emplace_back([&] {
      while (true) {
        in_flight.acquire();
        int64_t id = next_id.fetch_add(1);
        writer.Post(
            [id](Database& conn) -> kefu::Status {
              KEFU_ASSIGN_OR_RETURN(Statement * st, conn.Prepare(kefu::crash::kInsert));
              KEFU_RETURN_IF_ERROR(st->BindAll(id, "payload-" + std::to_string(id)));
              return st->Run();
            },
            [id, &in_flight](kefu::Status s) {
              if (!s.ok()) {
                std::fprintf(stderr, "write %lld: %s\n", static_cast<long long>(id),
                             s.ToString().c_str());
                _exit(1);
              }
              // Acknowledged: done runs after the group's COMMIT returned.
              WriteAll(std::to_string(id) + "\n");
              in_flight.release();
            });
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return 0;
}
