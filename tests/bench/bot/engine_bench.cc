// Load tool for the conversation engine: how many stored inbound messages per second become
// committed outbox rows (match + policy + conversation records + outbox insert + inbound mark in
// one writer job), and the per-message latency (submit -> commit) at half that rate.
//
//   kefu_bot_engine_bench [faqs=demo|<n>] [messages=N] [workers=W] [matcher=exact]
//
// matcher=exact replaces knowledge's matcher by a hash lookup, isolating the engine's own cost
// (policy, SQLite records, outbox, group commit).
//
// The FAQ base is deploy/demo/faq.jsonl, or that plus synthetic FAQs up to n entries. Queries are
// the demo FAQs' similar questions (answered or suggested), spread over 1,000 customers.
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bot/conversation_engine.h"
#include "bot/knowledge_faq_matcher.h"
#include "storage/writer_executor.h"
#include "tests/bench/bot/bench_faqs.h"
#include "tests/support/temp_dir.h"

namespace kefu::bot {
namespace {

using bench::ExactMatcher;
using bench::LoadFaqs;

using Clock = std::chrono::steady_clock;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE bench_inbound (id INTEGER PRIMARY KEY, processed_at_ms INTEGER NOT NULL);
CREATE TABLE bench_outbox (id INTEGER PRIMARY KEY, idempotency_key TEXT UNIQUE NOT NULL,
  destination TEXT NOT NULL, msg_type TEXT NOT NULL, content TEXT NOT NULL);
)sql";

class Ledger final : public InboundLedger {
 public:
  Result<bool> MarkProcessed(storage::Database& db, int64_t id, TimePoint now) override {
    KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare("INSERT INTO bench_inbound VALUES (?1, ?2) "
                                               "ON CONFLICT DO NOTHING"));
    KEFU_RETURN_IF_ERROR(st->BindAll(id, ToUnixMs(now)));
    KEFU_RETURN_IF_ERROR(st->Run());
    return db.Changes() == 1;
  }
};

class Outbox final : public ReplyOutbox {
 public:
  Status Enqueue(storage::Database& db, const OutboundReply& r) override {
    KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare("INSERT INTO bench_outbox (idempotency_key, "
                                               "destination, msg_type, content) VALUES "
                                               "(?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"));
    KEFU_RETURN_IF_ERROR(st->BindAll(r.idempotency_key, r.destination,
                                     ReplyFormatName(r.reply.format), r.reply.text));
    return st->Run();
  }
};

class Desk final : public HandoffDesk {
 public:
  ServiceWindow WindowFor(const Conversation&, TimePoint) override { return {}; }
  Result<HandoffTicket> OpenHandoff(storage::Database&, const HandoffRequest&) override {
    return HandoffTicket{std::nullopt, 1};
  }
  Result<int> QueuePosition(storage::Database&, const Conversation&) override { return 1; }
  Status AppendCustomerMessage(storage::Database&, const Conversation&,
                               const ConversationMessage&) override {
    return Status::Ok();
  }
};

// Engine cost without matching: a hash lookup of the exact question.

struct Setup {
  testing::TempDir dir;
  prometheus::Registry registry;
  SystemClock clock;
  knowledge::Matcher matcher;
  std::unique_ptr<KnowledgeFaqMatcher> adapter;
  std::unique_ptr<ExactMatcher> exact;
  Ledger ledger;
  Outbox outbox;
  Desk desk;
  std::unique_ptr<storage::WriterExecutor> writer;
};

std::unique_ptr<Setup> MakeSetup(const std::vector<knowledge::Faq>& faqs) {
  auto s = std::make_unique<Setup>();
  storage::DatabaseOptions o;
  o.path = s->dir.File("bench.db");
  o.synchronous = storage::DatabaseOptions::Synchronous::kNormal;
  auto db = storage::Database::Open(o);
  if (!db.ok() || !SqliteConversationStore::Migrate(**db).ok() || !(*db)->Exec(kSchema).ok()) {
    std::fprintf(stderr, "setup failed\n");
    std::exit(1);
  }
  s->writer = std::make_unique<storage::WriterExecutor>(std::move(db).value(), s->registry);
  s->adapter = std::make_unique<KnowledgeFaqMatcher>(s->matcher);
  s->adapter->Reload(faqs);
  s->exact = std::make_unique<ExactMatcher>(faqs);
  return s;
}

std::vector<InboundMessage> Messages(const std::vector<knowledge::Faq>& faqs, size_t n,
                                     int64_t first_id) {
  std::vector<std::string> pool;
  for (const auto& f : faqs) {
    if (f.id.rfind("syn-", 0) == 0) continue;
    for (const auto& q : f.similar_questions)
      pool.push_back(q);
  }
  std::vector<InboundMessage> out;
  for (size_t i = 0; i < n; ++i) {
    InboundMessage m;
    m.inbound_id = first_id + static_cast<int64_t>(i);
    m.channel = "wecom";
    m.app = "shop";
    m.sender = "customer-" + std::to_string(i % 1000);
    m.msg_type = "text";
    m.text = pool[(i * 7919) % pool.size()];
    m.platform_msg_id = "pm-" + std::to_string(m.inbound_id);
    out.push_back(std::move(m));
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void Run(const std::string& label, size_t faq_count, size_t n, int workers, bool exact) {
  const auto faqs = LoadFaqs(faq_count);
  auto s = MakeSetup(faqs);
  const FaqMatcher& matcher = exact ? static_cast<const FaqMatcher&>(*s->exact) : *s->adapter;

  // Match cost alone, single thread.
  const auto sample = Messages(faqs, 2000, 1);
  auto t0 = Clock::now();
  for (const auto& m : sample)
    (void)s->adapter->Match(m.text, "wecom", 5);
  const double match_us =
      std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / 2000.0;

  // Throughput: submit everything, wait for the last commit.
  std::vector<Clock::time_point> submitted(2 * n + 2);
  std::vector<double> latency_ms(2 * n + 2, -1);
  std::atomic<bool> measure{false};
  EngineOptions eo;
  eo.workers = workers;
  eo.on_finished = [&](const Status&, int64_t id) {
    if (measure.load(std::memory_order_relaxed)) {
      latency_ms[static_cast<size_t>(id)] = std::chrono::duration<double, std::milli>(
                                                Clock::now() - submitted[static_cast<size_t>(id)])
                                                .count();
    }
  };
  ConversationEngine engine(*s->writer, DialoguePolicy(BotOptions{}), matcher, s->ledger, s->outbox,
                            s->desk, s->clock, s->registry, eo);
  auto batch = Messages(faqs, n, 1);
  t0 = Clock::now();
  for (auto& m : batch)
    engine.Submit(std::move(m));
  engine.Drain();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rate = static_cast<double>(n) / secs;

  // Latency at half the measured rate (open loop).
  const double half = rate / 2;
  auto paced = Messages(faqs, n, static_cast<int64_t>(n) + 1);
  measure = true;
  const auto start = Clock::now();
  for (size_t i = 0; i < paced.size(); ++i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i) / half));
    std::this_thread::sleep_until(due);
    submitted[static_cast<size_t>(paced[i].inbound_id)] = Clock::now();
    engine.Submit(std::move(paced[i]));
  }
  engine.Drain();
  std::vector<double> lat;
  for (double v : latency_ms) {
    if (v >= 0) lat.push_back(v);
  }
  std::printf(
      "%-10s matcher=%-9s faqs=%-6zu workers=%d messages=%zu  match=%.1f us/msg  "
      "throughput=%.0f msgs/s  at %.0f msgs/s: p50=%.2f ms p99=%.2f ms\n",
      label.c_str(), exact ? "exact" : "knowledge", faqs.size(), workers, n, match_us, rate, half,
      Percentile(lat, 0.5), Percentile(lat, 0.99));
  engine.Stop();
}

}  // namespace
}  // namespace kefu::bot

int main(int argc, char** argv) {
  std::string faqs = "both";
  size_t messages = 20000;
  int workers = 2;
  bool exact = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "matcher=exact") exact = true;
    if (a.rfind("faqs=", 0) == 0) faqs = a.substr(5);
    if (a.rfind("messages=", 0) == 0) messages = std::stoul(a.substr(9));
    if (a.rfind("workers=", 0) == 0) workers = std::stoi(a.substr(8));
  }
  if (faqs == "both" || faqs == "demo") kefu::bot::Run("demo", 0, messages, workers, exact);
  if (faqs == "both") kefu::bot::Run("10k", 10000, messages, workers, exact);
  if (faqs != "both" && faqs != "demo") {
    kefu::bot::Run("custom", std::stoul(faqs), messages, workers, exact);
  }
  return 0;
}
