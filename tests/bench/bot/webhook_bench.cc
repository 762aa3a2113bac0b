// End-to-end load tool: encrypted WeCom webhook -> channels (verify, decrypt, store, 200) ->
// conversation engine (match, policy, records) -> outbox row, in ONE in-process kefud (the
// app::Daemon with the app, bot and channels modules), beside the channel-only ingest path of the
// same daemon (the bot switched off: rows are stored and acknowledged, nothing consumes them).
//
//   kefu_bot_webhook_bench [faqs=demo|<n>] [seconds=S] [connections=C] [matcher=knowledge|exact]
//                          [send=closed|fake]
//
// Phases (1 and 2 on one daemon), same FAQ base:
//   1. ingest:  bot off, C keep-alive connections POST for S seconds -> acked msgs/s, client p99.
//   2. bot:     bot on, C connections for S seconds, then wait until every message has its
//               outbox row -> msgs/s = messages / (first POST .. last outbox row).
//   3. half:    a fresh daemon (phase 2's replies are not being resent meanwhile), bot on, open
//               loop at half of phase 2's rate for S seconds -> p50/p99 of
//               outbox row created_ms - inbound received_at_ms (both stamped by the daemon, ms).
// The FAQ base is deploy/demo/faq.jsonl, or that plus synthetic FAQs up to n entries; queries
// are the demo FAQs' similar questions spread over 1,000 customers. The outbox senders point at a
// closed port (send=closed: sending is not measured, but every reply is retried with backoff) or
// at an in-process fake WeCom API that accepts every message (send=fake: each reply is sent once,
// the fake's CPU counts as daemon CPU). matcher=exact swaps knowledge's matcher for a hash lookup.
// Each phase also prints, per message: daemon CPU (process CPU minus the load threads'), writer
// jobs, transactions (COMMITs) and outbox send attempts, from the daemon's metrics.
#include <httplib.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app/app_module.h"
#include "app/bot_api.h"
#include "app/channels_api.h"
#include "app/daemon.h"
#include "bot/knowledge_faq_matcher.h"
#include "channels/common/wx_crypto.h"
#include "storage/database.h"
#include "tests/bench/bot/bench_faqs.h"
#include "tests/fakes/fake_wecom.h"
#include "tests/support/temp_dir.h"

namespace kefu::bot {
namespace {

using bench::ExactMatcher;
using bench::LoadFaqs;

using Clock = std::chrono::steady_clock;

constexpr char kCorp[] = "wx5823bf96d3bd56c7";
constexpr char kToken[] = "QDG6eK";
constexpr char kAesKey[] = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

// No ticketing in this daemon (the queries never hand off).
class NoDesk final : public HandoffDesk {
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

// Forwards stored messages to the bot's submitter while `on`; otherwise they stay unprocessed
// (the channel-only ingest path).
class Gate final : public InboundSubmitter {
 public:
  void Submit(InboundMessage m) override {
    if (on.load(std::memory_order_acquire) && target != nullptr) target->Submit(std::move(m));
  }
  std::atomic<bool> on{false};
  InboundSubmitter* target = nullptr;
};

// Provides the matcher and the desk to the bot module, and puts the gate in front of the bot's
// submitter (Init runs after the bot's Init, before every Start).
class BenchModule final : public app::Module {
 public:
  BenchModule(const FaqMatcher& matcher, Gate& gate) : matcher_(matcher), gate_(gate) {}
  std::string_view name() const override { return "bench"; }
  prometheus::Registry* metrics() const { return metrics_; }
  // The CPU-time clock of the storage writer thread (found by running a job on it).
  clockid_t writer_clock() const { return writer_clock_; }
  Status Init(app::Services& s) override {
    metrics_ = &s.metrics;
    KEFU_RETURN_IF_ERROR(s.writer.Run([this](storage::Database&) {
      return pthread_getcpuclockid(pthread_self(), &writer_clock_) == 0
                 ? Status::Ok()
                 : Internal("pthread_getcpuclockid failed");
    }));
    gate_.target = s.registry.Get<InboundSubmitter>();
    if (gate_.target == nullptr) return FailedPrecondition("bot submitter missing");
    s.registry.Provide<InboundSubmitter>(gate_);
    s.registry.Provide<FaqMatcher>(const_cast<FaqMatcher&>(matcher_));
    s.registry.Provide<HandoffDesk>(desk_);
    return Status::Ok();
  }

 private:
  const FaqMatcher& matcher_;
  Gate& gate_;
  NoDesk desk_;
  prometheus::Registry* metrics_ = nullptr;
  clockid_t writer_clock_{};
};

// Work counters of the daemon (from its metrics registry) and the process's CPU time, so that a
// phase reports writer jobs, transactions and send attempts per message, and CPU per message.
struct Counters {
  double writer_jobs = 0;    // kefu_storage_writer_jobs_total
  double transactions = 0;   // kefu_storage_commit_batch_jobs count (one per COMMIT)
  double send_attempts = 0;  // kefu_channels_outbox_total
  double cpu_s = 0;          // user + system CPU of the whole process (daemon + load threads)
  double writer_cpu_s = 0;   // CPU of the storage writer thread (the serial part)
};

double SumMetric(const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  double sum = 0;
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      if (f.type == prometheus::MetricType::Histogram) {
        sum += static_cast<double>(m.histogram.sample_count);
      } else {
        sum += m.counter.value;
      }
    }
  }
  return sum;
}

double ClockSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Counters Snapshot(const prometheus::Registry& registry, clockid_t writer_clock) {
  const auto families = registry.Collect();
  Counters c;
  c.writer_jobs = SumMetric(families, "kefu_storage_writer_jobs_total");
  c.transactions = SumMetric(families, "kefu_storage_commit_batch_jobs");
  c.send_attempts = SumMetric(families, "kefu_channels_outbox_total");
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  c.cpu_s = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
            static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  c.writer_cpu_s = ClockSeconds(writer_clock);
  return c;
}

// CPU seconds of the calling thread.
double ThreadCpuSeconds() {
  return ClockSeconds(CLOCK_THREAD_CPUTIME_ID);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Load {
  std::vector<std::string> queries;
  channels::AesKey key;
  std::atomic<int64_t> next_id{1};

  // An encrypted text callback with a unique MsgId.
  std::string Body(int64_t id, std::string* target) const {
    const std::string& q = queries[static_cast<size_t>(id * 7919) % queries.size()];
    const std::string ts = std::to_string(std::time(nullptr));
    std::string xml = std::string("<xml><ToUserName><![CDATA[") + kCorp +
                      "]]></ToUserName><FromUserName><![CDATA[customer-" +
                      std::to_string(id % 1000) + "]]></FromUserName><CreateTime>" + ts +
                      "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + q +
                      "]]></Content><MsgId>" + std::to_string(id) +
                      "</MsgId><AgentID>1000002</AgentID></xml>";
    std::string enc;
    (void)channels::Encrypt(key, xml, kCorp, "aaaabbbbccccdddd", enc);
    const std::string nonce = "n" + std::to_string(id);
    *target =
        "/callback/wecom/main?msg_signature=" + channels::Sha1Signature(kToken, ts, nonce, enc) +
        "&timestamp=" + ts + "&nonce=" + nonce;
    return std::string("<xml><ToUserName><![CDATA[") + kCorp +
           "]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>";
  }
};

struct PhaseResult {
  long ok = 0;
  long errors = 0;
  double seconds = 0;
  std::vector<double> client_ms;
  int64_t first_id = 0;
  int64_t last_id = 0;
  double client_cpu_s = 0;  // CPU of the load threads (subtracted from the process's)
};

// `rate` <= 0: closed loop; else open loop at `rate` msgs/s spread over the connections.
PhaseResult Drive(Load& load, int port, int connections, double seconds, double rate) {
  PhaseResult r;
  r.first_id = load.next_id.load();
  std::vector<PhaseResult> per(static_cast<size_t>(connections));
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::atomic<int64_t> sent{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(10, 0);
      PhaseResult& st = per[static_cast<size_t>(c)];
      const double cpu0 = ThreadCpuSeconds();
      while (true) {
        if (rate > 0) {
          const int64_t k = sent++;
          const auto due =
              start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(k) / rate));
          if (due >= deadline) break;
          std::this_thread::sleep_until(due);
        } else if (Clock::now() >= deadline) {
          break;
        }
        std::string target;
        const std::string body = load.Body(load.next_id++, &target);
        const auto t0 = Clock::now();
        auto res = cli.Post(target, body, "text/xml");
        const auto t1 = Clock::now();
        if (!res || res->status != 200) {
          ++st.errors;
          continue;
        }
        ++st.ok;
        st.client_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      st.client_cpu_s = ThreadCpuSeconds() - cpu0;
    });
  }
  for (auto& t : threads)
    t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& s : per) {
    r.ok += s.ok;
    r.errors += s.errors;
    r.client_cpu_s += s.client_cpu_s;
    r.client_ms.insert(r.client_ms.end(), s.client_ms.begin(), s.client_ms.end());
  }
  r.last_id = load.next_id.load() - 1;
  return r;
}

// Bot outcome of the messages with platform ids [first, last]: (messages with an outbox row,
// latest outbox created_ms, earliest received_at_ms, per-message latencies in ms).
struct BotRows {
  long answered = 0;
  int64_t first_received_ms = 0;
  int64_t last_outbox_ms = 0;
  std::vector<double> latency_ms;
};

BotRows ReadBotRows(const std::string& db_path, int64_t first, int64_t last) {
  BotRows out;
  storage::DatabaseOptions o;
  o.path = db_path;
  auto db = storage::Database::Open(o);
  if (!db.ok()) return out;
  auto st = (*db)->Prepare(
      "SELECT i.received_at_ms, MIN(o.created_ms) FROM channel_inbound i "
      "JOIN channel_outbox o ON o.inbound_id = i.id "
      "WHERE CAST(i.platform_msg_id AS INTEGER) BETWEEN ?1 AND ?2 GROUP BY i.id");
  if (!st.ok()) return out;
  (void)(*st)->BindAll(first, last);
  while (true) {
    auto row = (*st)->Step();
    if (!row.ok() || !*row) break;
    const int64_t in = (*st)->ColumnInt64(0);
    const int64_t done = (*st)->ColumnInt64(1);
    ++out.answered;
    if (out.first_received_ms == 0 || in < out.first_received_ms) out.first_received_ms = in;
    out.last_outbox_ms = std::max(out.last_outbox_ms, done);
    out.latency_ms.push_back(static_cast<double>(done - in));
  }
  (*st)->Reset();
  return out;
}

// Polls until every acked message of the phase has its outbox row (or 120 s pass).
BotRows WaitForBot(const std::string& db_path, const PhaseResult& p) {
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  BotRows rows;
  while (Clock::now() < deadline) {
    rows = ReadBotRows(db_path, p.first_id, p.last_id);
    if (rows.answered >= p.ok) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return rows;
}

// One in-process kefud (app, bot, bench and channels modules) on its own data directory.
struct Instance {
  SystemClock clock;
  testing::TempDir dir;
  fakes::FakeWecom fake{kCorp, "app-secret"};
  Gate gate;
  std::unique_ptr<app::Daemon> daemon;
  int port = 0;
  prometheus::Registry* metrics = nullptr;
  clockid_t writer_clock{};
  std::string db_path;
  ~Instance() {
    if (daemon) daemon->Shutdown();
    fake.Stop();
  }
};

std::unique_ptr<Instance> StartInstance(const FaqMatcher& matcher, bool fake_send) {
  auto inst = std::make_unique<Instance>();
  app::Config config;
  config.server.listen = "127.0.0.1:0";
  config.storage.data_dir = inst->dir.File("data");
  config.storage.synchronous = storage::DatabaseOptions::Synchronous::kNormal;
  app::ChannelsConfig channels;
  channels::wecom::WecomAppConfig wecom;
  wecom.name = "main";
  wecom.corp_id = kCorp;
  wecom.agent_id = 1000002;
  wecom.token = kToken;
  wecom.encoding_aes_key = kAesKey;
  wecom.secret = "app-secret";
  // send=closed: a closed port, every reply is retried with backoff (rows stay pending);
  // send=fake: a fake WeCom API that accepts every message (each reply is sent once).
  if (fake_send) inst->fake.Start();
  wecom.api_base = fake_send ? inst->fake.base_url() : "http://127.0.0.1:9";
  wecom.max_timestamp_skew_s = 0;
  channels.wecom_apps.push_back(wecom);

  std::vector<std::unique_ptr<app::Module>> modules;
  modules.push_back(app::MakeAppModule());
  modules.push_back(app::MakeBotModule(BotOptions{}));
  auto bench_module = std::make_unique<BenchModule>(matcher, inst->gate);
  BenchModule& bench = *bench_module;
  modules.push_back(std::move(bench_module));
  modules.push_back(app::MakeChannelsModule(channels));
  auto daemon = app::Daemon::Create(config, std::move(modules), inst->clock);
  if (!daemon.ok()) {
    std::fprintf(stderr, "daemon: %s\n", daemon.status().ToString().c_str());
    std::exit(1);
  }
  inst->daemon = std::move(daemon).value();
  if (Status s = inst->daemon->Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  inst->port = inst->daemon->port();
  inst->metrics = bench.metrics();
  inst->writer_clock = bench.writer_clock();
  for (const auto& e : std::filesystem::directory_iterator(inst->dir.File("data"))) {
    if (e.path().extension() == ".db") inst->db_path = e.path().string();
  }
  return inst;
}

void Run(const std::string& label, size_t faq_count, double seconds, int connections, bool exact,
         bool fake_send) {
  const auto faqs = LoadFaqs(faq_count);
  knowledge::Matcher km;
  KnowledgeFaqMatcher adapter(km);
  adapter.Reload(faqs);
  ExactMatcher exact_matcher(faqs);
  const FaqMatcher& matcher = exact ? static_cast<const FaqMatcher&>(exact_matcher)
                                    : static_cast<const FaqMatcher&>(adapter);
  auto inst = StartInstance(matcher, fake_send);
  Gate& gate = inst->gate;
  const int port = inst->port;
  prometheus::Registry* metrics = inst->metrics;
  const std::string db_path = inst->db_path;

  Load load;
  (void)channels::DecodeAesKey(kAesKey, load.key);
  for (const auto& f : faqs) {
    if (f.id.rfind("syn-", 0) == 0) continue;
    for (const auto& q : f.similar_questions)
      load.queries.push_back(q);
  }

  // 1. channel-only ingest.
  gate.on = false;
  const Counters c0 = Snapshot(*metrics, inst->writer_clock);
  const PhaseResult ingest = Drive(load, port, connections, seconds, 0);
  const Counters c1 = Snapshot(*metrics, inst->writer_clock);
  const double ingest_rate = static_cast<double>(ingest.ok) / ingest.seconds;
  // 2. webhook -> bot -> outbox, closed loop, then drain.
  gate.on = true;
  const PhaseResult full = Drive(load, port, connections, seconds, 0);
  const BotRows full_rows = WaitForBot(db_path, full);
  const Counters c2 = Snapshot(*metrics, inst->writer_clock);
  const double bot_secs =
      static_cast<double>(full_rows.last_outbox_ms - full_rows.first_received_ms) / 1000.0;
  const double bot_rate = bot_secs > 0 ? static_cast<double>(full_rows.answered) / bot_secs : 0;
  // 3. half that rate, open loop, on a fresh daemon: phase 2's replies are not still being
  // (re)sent by the outbox dispatcher while this phase is measured.
  inst.reset();
  inst = StartInstance(matcher, fake_send);
  inst->gate.on = true;
  const double half = bot_rate / 2;
  const Counters c2b = Snapshot(*inst->metrics, inst->writer_clock);
  const PhaseResult paced = Drive(load, inst->port, connections, seconds, half);
  const BotRows paced_rows = WaitForBot(inst->db_path, paced);
  const Counters c3 = Snapshot(*inst->metrics, inst->writer_clock);

  std::printf(
      "%-6s matcher=%-9s send=%s faqs=%-6zu conns=%d  ingest-only: %.0f msgs/s (client p50 %.2f "
      "p99 %.2f "
      "ms, %ld errors)  webhook->bot->outbox: %.0f msgs/s (%ld/%ld answered, ratio %.2f)  at %.0f "
      "msgs/s: p50 %.1f ms p99 %.1f ms (%ld/%ld answered; client p99 %.2f ms)\n",
      label.c_str(), exact ? "exact" : "knowledge", fake_send ? "fake" : "closed", faqs.size(),
      connections, ingest_rate, Percentile(ingest.client_ms, 0.5),
      Percentile(ingest.client_ms, 0.99), ingest.errors, bot_rate, full_rows.answered, full.ok,
      ingest_rate > 0 ? bot_rate / ingest_rate : 0, half, Percentile(paced_rows.latency_ms, 0.5),
      Percentile(paced_rows.latency_ms, 0.99), paced_rows.answered, paced.ok,
      Percentile(paced.client_ms, 0.99));
  // Per message of each phase: daemon CPU (process CPU minus the load threads'), writer jobs,
  // transactions (COMMITs) and outbox send attempts (the senders point at a closed port, so each
  // reply is retried with backoff; those attempts and their writer jobs are counted here too).
  const auto per_msg = [](const char* phase, const Counters& a, const Counters& b,
                          const PhaseResult& p) {
    const double n = p.ok > 0 ? static_cast<double>(p.ok) : 1;
    std::printf(
        "       %-7s per message: daemon cpu %.0f us (writer thread %.0f us), writer jobs %.2f, "
        "transactions %.3f, send attempts %.2f\n",
        phase, (b.cpu_s - a.cpu_s - p.client_cpu_s) * 1e6 / n,
        (b.writer_cpu_s - a.writer_cpu_s) * 1e6 / n, (b.writer_jobs - a.writer_jobs) / n,
        (b.transactions - a.transactions) / n, (b.send_attempts - a.send_attempts) / n);
  };
  per_msg("ingest", c0, c1, ingest);
  per_msg("bot", c1, c2, full);
  per_msg("half", c2b, c3, paced);
  std::fflush(stdout);
}

}  // namespace
}  // namespace kefu::bot

int main(int argc, char** argv) {
  std::string faqs = "both";
  double seconds = 5;
  int connections = 32;
  bool exact = false;
  bool fake_send = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "matcher=exact") exact = true;
    if (a == "send=fake") fake_send = true;
    if (a.rfind("faqs=", 0) == 0) faqs = a.substr(5);
    if (a.rfind("seconds=", 0) == 0) seconds = std::stod(a.substr(8));
    if (a.rfind("connections=", 0) == 0) connections = std::stoi(a.substr(12));
  }
  if (faqs == "both" || faqs == "demo") {
    kefu::bot::Run("demo", 0, seconds, connections, exact, fake_send);
  }
  if (faqs == "both") kefu::bot::Run("10k", 10000, seconds, connections, exact, fake_send);
  if (faqs != "both" && faqs != "demo") {
    kefu::bot::Run("custom", std::stoul(faqs), seconds, connections, exact, fake_send);
  }
  return 0;
}
