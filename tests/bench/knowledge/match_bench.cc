// kefu_knowledge_bench: single-threaded FAQ match latency (normalisation + segmentation + BM25
// candidates + reranking + calibration) on the faq-dev base and on seeded synthetic bases of
// 10,000 and 100,000 FAQs that contain the dev FAQs, plus index build time, with plain SQLite
// FTS5 BM25 (kefu_zh tokens, OR query, ORDER BY rank) on the same base as the baseline.
//
//   kefu_knowledge_bench [--faq-dev DIR] [--sizes 5000,10000,100000] [--fts5-queries 500]
//
// Latency is reported twice: wall clock, and the thread's CPU time per query (robust when other
// processes share the machine). --fts5-queries 0 skips the FTS5 baseline (quick iterations only).
//
// Synthetic FAQs splice a prefix of one dev question onto the suffix of another (seed 20261122),
// so they share the dev vocabulary and its frequency profile.
#include <algorithm>

// GCC 12 reports a false -Wrestrict inside std::string concatenation at -O2 (GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "knowledge/eval.h"
#include "knowledge/fts5_faq_index.h"
#include "knowledge/fts5_tokenizer.h"
#include "knowledge/matcher.h"
#include "knowledge/sqlite_faq_store.h"
#include "knowledge/text_normalizer.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace kk = kefu::knowledge;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<kk::Faq> SyntheticBase(const std::vector<kk::Faq>& dev, size_t n) {
  std::vector<kk::Faq> out = dev;
  std::mt19937_64 rng(20261122);
  std::vector<std::u32string> texts;
  for (const auto& f : dev)
    texts.push_back(kk::FromUtf8(f.question));
  size_t i = 0;
  while (out.size() < n) {
    const std::u32string& a = texts[rng() % texts.size()];
    const std::u32string& b = texts[rng() % texts.size()];
    if (a.size() < 4 || b.size() < 4) continue;
    const size_t cut_a = 2 + rng() % (a.size() - 2);
    const size_t cut_b = rng() % (b.size() - 2);
    kk::Faq f;
    f.id = "syn-" + std::to_string(++i);
    f.question = kk::ToUtf8(a.substr(0, cut_a) + b.substr(cut_b));
    f.answer = "a";
    out.push_back(std::move(f));
  }
  out.resize(n);
  return out;
}

struct Latency {
  double p50 = 0, p99 = 0, qps = 0;              // wall clock
  double cpu_p50 = 0, cpu_p99 = 0, cpu_qps = 0;  // thread CPU time
};

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

template <typename F>
Latency Measure(const std::vector<kk::EvalQuery>& queries, size_t count, F&& run) {
  Latency out;
  if (count == 0) return out;
  std::vector<double> us, cpu;
  us.reserve(count);
  cpu.reserve(count);
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuUs();
  for (size_t i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    const double c0 = ThreadCpuUs();
    run(queries[i % queries.size()].query);
    cpu.push_back(ThreadCpuUs() - c0);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu_secs = (ThreadCpuUs() - cpu_start) / 1e6;
  auto pct = [](std::vector<double>& v, size_t p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, v.size() * p / 100)];
  };
  out.p50 = pct(us, 50);
  out.p99 = pct(us, 99);
  out.qps = static_cast<double>(count) / secs;
  out.cpu_p50 = pct(cpu, 50);
  out.cpu_p99 = pct(cpu, 99);
  out.cpu_qps = static_cast<double>(count) / cpu_secs;
  return out;
}

const char* Arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = Arg(argc, argv, "--faq-dev", KEFU_FAQ_DEV_DIR);
  const size_t fts_queries = std::stoul(Arg(argc, argv, "--fts5-queries", "500"));
  std::vector<size_t> sizes;
  {
    std::string s = Arg(argc, argv, "--sizes", "5000,10000,100000");
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t comma = s.find(',', pos);
      sizes.push_back(std::stoul(s.substr(pos, comma - pos)));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  auto dev = kk::LoadFaqJsonl(dir + "/faq.jsonl");
  auto queries = kk::LoadEvalQueries(dir + "/queries.jsonl");
  if (!dev.ok() || !queries.ok()) {
    std::fprintf(stderr, "cannot read faq-dev from %s\n", dir.c_str());
    return 1;
  }
  std::printf(
      "| FAQs | matcher build s | matcher p50 us | p99 us | matches/s | CPU p50 us | CPU p99 us | "
      "matches/CPU-s | FTS5 build s | FTS5 p50 us | p99 us | queries/s |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t n : sizes) {
    const std::vector<kk::Faq> base = SyntheticBase(dev->faqs, n);
    kk::Matcher matcher;
    auto t0 = Clock::now();
    matcher.Rebuild(base);
    const double build = std::chrono::duration<double>(Clock::now() - t0).count();
    matcher.Match("预热", 5);
    const Latency m = Measure(*queries, queries->size(), [&](const std::string& q) {
      auto r = matcher.Match(q, 5);
      if (r.size() > 5) std::abort();
    });

    if (fts_queries == 0) {
      std::printf("| %zu | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | - | - | - | - |\n", n,
                  build, m.p50, m.p99, m.qps, m.cpu_p50, m.cpu_p99, m.cpu_qps);
      std::fflush(stdout);
      continue;
    }
    kefu::testing::TempDir tmp;
    kefu::storage::DatabaseOptions o;
    o.path = tmp.File("bench.db");
    o.synchronous = kefu::storage::DatabaseOptions::Synchronous::kOff;
    o.connection_initializers.push_back(kk::KefuZhConnectionInitializer());
    auto db = kefu::storage::Database::Open(o);
    if (!db.ok() ||
        !kefu::storage::ApplyMigrations(**db, "knowledge", kk::KnowledgeMigrations()).ok()) {
      std::fprintf(stderr, "cannot open the bench database\n");
      return 1;
    }
    kk::Fts5FaqIndex fts(**db);
    t0 = Clock::now();
    {
      kefu::storage::Transaction tx(**db);
      for (const auto& f : base) {
        if (!fts.Upsert(f).ok()) return 1;
      }
      if (!tx.Commit().ok()) return 1;
    }
    const double fts_build = std::chrono::duration<double>(Clock::now() - t0).count();
    const Latency f =
        Measure(*queries, std::min(fts_queries, queries->size()), [&](const std::string& q) {
          auto r = fts.Search(q, 10);
          if (!r.ok()) std::abort();
        });
    std::printf(
        "| %zu | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f | %.0f |\n", n,
        build, m.p50, m.p99, m.qps, m.cpu_p50, m.cpu_p99, m.cpu_qps, fts_build, f.p50, f.p99,
        f.qps);
    std::fflush(stdout);
  }
  return 0;
}
