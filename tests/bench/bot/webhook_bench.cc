// End-to-end load tool: encrypted WeCom webhook -> channels (verify, decrypt, store, 200) ->
// conversation engine (match, policy, records) -> outbox row, in ONE in-process kefud (the
// app::Daemon with the app, bot and channels modules), beside the channel-only ingest path of the
// same daemon (the bot switched off: rows are stored and acknowledged, nothing consumes them).
//
//   kefu_bot_webhook_bench [faqs=demo|<n>] [seconds=S] [connections=C] [matcher=knowledge|exact]
//
// Phases, same daemon, same FAQ base:
//   1. ingest:  bot off, C keep-alive connections POST for S seconds -> acked msgs/s, client p99.
//   2. bot:     bot on, C connections for S seconds, then wait until every message has its
//               outbox row -> msgs/s = messages / (first POST .. last outbox row).
//   3. half:    bot on, open loop at half of phase 2's rate for S seconds -> p50/p99 of
//               outbox row created_ms - inbound received_at_ms (both stamped by the daemon, ms).
// The FAQ base is deploy/demo/faq.jsonl, or that plus synthetic FAQs up to n entries; queries
// are the demo FAQs' similar questions spread over 1,000 customers. The outbox senders point at a
// closed port (sending is not measured). matcher=exact swaps knowledge's matcher for a hash lookup.
#include <httplib.h>
#include <prometheus/registry.h>

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
  Status Init(app::Services& s) override {
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
};

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
    });
  }
  for (auto& t : threads)
    t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& s : per) {
    r.ok += s.ok;
    r.errors += s.errors;
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

void Run(const std::string& label, size_t faq_count, double seconds, int connections, bool exact) {
  const auto faqs = LoadFaqs(faq_count);
  knowledge::Matcher km;
  KnowledgeFaqMatcher adapter(km);
  adapter.Reload(faqs);
  ExactMatcher exact_matcher(faqs);
  const FaqMatcher& matcher = exact ? static_cast<const FaqMatcher&>(exact_matcher)
                                    : static_cast<const FaqMatcher&>(adapter);

  testing::TempDir dir;
  app::Config config;
  config.server.listen = "127.0.0.1:0";
  config.storage.data_dir = dir.File("data");
  config.storage.synchronous = storage::DatabaseOptions::Synchronous::kNormal;
  app::ChannelsConfig channels;
  channels::wecom::WecomAppConfig wecom;
  wecom.name = "main";
  wecom.corp_id = kCorp;
  wecom.agent_id = 1000002;
  wecom.token = kToken;
  wecom.encoding_aes_key = kAesKey;
  wecom.secret = "app-secret";
  wecom.api_base = "http://127.0.0.1:9";  // closed: sending is not part of the measurement
  wecom.max_timestamp_skew_s = 0;
  channels.wecom_apps.push_back(wecom);

  Gate gate;
  std::vector<std::unique_ptr<app::Module>> modules;
  modules.push_back(app::MakeAppModule());
  modules.push_back(app::MakeBotModule(BotOptions{}));
  modules.push_back(std::make_unique<BenchModule>(matcher, gate));
  modules.push_back(app::MakeChannelsModule(channels));
  SystemClock clock;
  auto daemon = app::Daemon::Create(config, std::move(modules), clock);
  if (!daemon.ok()) {
    std::fprintf(stderr, "daemon: %s\n", daemon.status().ToString().c_str());
    std::exit(1);
  }
  if (Status s = (*daemon)->Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  const int port = (*daemon)->port();
  std::string db_path;
  for (const auto& e : std::filesystem::directory_iterator(dir.File("data"))) {
    if (e.path().extension() == ".db") db_path = e.path().string();
  }

  Load load;
  (void)channels::DecodeAesKey(kAesKey, load.key);
  for (const auto& f : faqs) {
    if (f.id.rfind("syn-", 0) == 0) continue;
    for (const auto& q : f.similar_questions)
      load.queries.push_back(q);
  }

  // 1. channel-only ingest.
  gate.on = false;
  const PhaseResult ingest = Drive(load, port, connections, seconds, 0);
  const double ingest_rate = static_cast<double>(ingest.ok) / ingest.seconds;
  // 2. webhook -> bot -> outbox, closed loop, then drain.
  gate.on = true;
  const PhaseResult full = Drive(load, port, connections, seconds, 0);
  const BotRows full_rows = WaitForBot(db_path, full);
  const double bot_secs =
      static_cast<double>(full_rows.last_outbox_ms - full_rows.first_received_ms) / 1000.0;
  const double bot_rate = bot_secs > 0 ? static_cast<double>(full_rows.answered) / bot_secs : 0;
  // 3. half that rate, open loop.
  const double half = bot_rate / 2;
  const PhaseResult paced = Drive(load, port, connections, seconds, half);
  const BotRows paced_rows = WaitForBot(db_path, paced);

  std::printf(
      "%-6s matcher=%-9s faqs=%-6zu conns=%d  ingest-only: %.0f msgs/s (client p50 %.2f p99 %.2f "
      "ms, %ld errors)  webhook->bot->outbox: %.0f msgs/s (%ld/%ld answered, ratio %.2f)  at %.0f "
      "msgs/s: p50 %.1f ms p99 %.1f ms (%ld/%ld answered; client p99 %.2f ms)\n",
      label.c_str(), exact ? "exact" : "knowledge", faqs.size(), connections, ingest_rate,
      Percentile(ingest.client_ms, 0.5), Percentile(ingest.client_ms, 0.99), ingest.errors,
      bot_rate, full_rows.answered, full.ok, ingest_rate > 0 ? bot_rate / ingest_rate : 0, half,
      Percentile(paced_rows.latency_ms, 0.5), Percentile(paced_rows.latency_ms, 0.99),
      paced_rows.answered, paced.ok, Percentile(paced.client_ms, 0.99));
  std::fflush(stdout);
  (*daemon)->Shutdown();
}

}  // namespace
}  // namespace kefu::bot

int main(int argc, char** argv) {
  std::string faqs = "both";
  double seconds = 5;
  int connections = 32;
  bool exact = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "matcher=exact") exact = true;
    if (a.rfind("faqs=", 0) == 0) faqs = a.substr(5);
    if (a.rfind("seconds=", 0) == 0) seconds = std::stod(a.substr(8));
    if (a.rfind("connections=", 0) == 0) connections = std::stoi(a.substr(12));
  }
  if (faqs == "both" || faqs == "demo") {
    kefu::bot::Run("demo", 0, seconds, connections, exact);
  }
  if (faqs == "both") kefu::bot::Run("10k", 10000, seconds, connections, exact);
  if (faqs != "both" && faqs != "demo") {
    kefu::bot::Run("custom", std::stoul(faqs), seconds, connections, exact);
  }
  return 0;
}
