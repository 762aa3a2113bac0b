// Load generator for the WeCom callback path: N keep-alive connections POST encrypted text
// callbacks with unique MsgIds (verify -> decrypt -> parse -> dedupe -> durable store -> 200),
// and, in the same run, GET the daemon's no-op route /healthz for comparison.
//
//   kefu_channels_callback_load <port> [connections=64] [seconds=10] [daemon_pid]
//                               [max_msgs_per_s=80000]
//   kefu_channels_callback_load --write-requests <file> <count>
//
// The second form only writes `count` encrypted callbacks with unique MsgIds, one per line as
// "<target>\t<body>", for the leaner wrk client (callback_wrk.lua, run_callback_bench.sh).
//
// Prints msgs/s, p50 and p99 for both routes. The callback bodies (seconds x max_msgs_per_s of
// them, unique MsgIds) are encrypted and signed before the timed run, so the generator spends no
// AES/SHA-1 time while the daemon is measured; a connection that uses up its share stops early
// (reported as "exhausted"). With `daemon_pid` the daemon's CPU time per request (user + system,
// from /proc) is printed too: a measure that stays meaningful on a busy machine.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "channels/common/wx_crypto.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  std::vector<double> latencies_us;
  long errors = 0;
  long exhausted = 0;       // connections that ran out of pre-encrypted bodies
  double daemon_cpu_s = 0;  // daemon user + system CPU during the run (0: unknown)
};

struct Request {
  std::string target;
  std::string body;
};

// User + system CPU seconds of process `pid` so far, or -1.
double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string Body(const kefu::channels::AesKey& key, int64_t msg_id, std::string* target) {
  std::string xml =
      "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[u" +
      std::to_string(msg_id % 1000) +
      "]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType>"
      "<Content><![CDATA[退货怎么办 hello]]></Content><MsgId>" +
      std::to_string(msg_id) + "</MsgId><AgentID>1000002</AgentID></xml>";
  std::string enc;
  (void)kefu::channels::Encrypt(key, xml, "wx5823bf96d3bd56c7", "aaaabbbbccccdddd", enc);
  std::string nonce = std::string("n").append(std::to_string(msg_id));
  *target = "/callback/wecom/main?msg_signature=" +
            kefu::channels::Sha1Signature("QDG6eK", "1409659813", nonce, enc) +
            "&timestamp=1409659813&nonce=" + nonce;
  return "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[" + enc +
         "]]></Encrypt></xml>";
}

// `per_connection` encrypted callbacks for each of `connections`, unique MsgIds from `id_base`.
// Built on all cores before the timed run.
std::vector<std::vector<Request>> Prepare(int connections, size_t per_connection, int64_t id_base) {
  kefu::channels::AesKey key;
  (void)kefu::channels::DecodeAesKey("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", key);
  std::vector<std::vector<Request>> out(static_cast<size_t>(connections));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  unsigned n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      for (size_t c = next++; c < out.size(); c = next++) {
        auto& reqs = out[c];
        reqs.resize(per_connection);
        for (size_t i = 0; i < per_connection; ++i) {
          int64_t id = id_base + static_cast<int64_t>(c * per_connection + i);
          reqs[i].body = Body(key, id, &reqs[i].target);
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return out;
}

// GETs /healthz (requests == nullptr) or POSTs the prepared callbacks for `seconds`.
Stats Run(int port, int connections, int seconds, const std::vector<std::vector<Request>>* requests,
          int daemon_pid) {
  std::vector<Stats> per(static_cast<size_t>(connections));
  double cpu0 = ProcessCpuSeconds(daemon_pid);
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // headers and body are separate writes: avoid Nagle + delayed ACK
      cli.set_read_timeout(10, 0);
      Stats& st = per[static_cast<size_t>(c)];
      size_t next = 0;
      while (Clock::now() < deadline) {
        const Request* r = nullptr;
        if (requests) {
          const auto& mine = (*requests)[static_cast<size_t>(c)];
          if (next == mine.size()) {
            st.exhausted = 1;
            break;
          }
          r = &mine[next++];
        }
        auto t0 = Clock::now();
        auto res = r ? cli.Post(r->target, r->body, "text/xml") : cli.Get("/healthz");
        auto t1 = Clock::now();
        if (!res || res->status != 200) {
          ++st.errors;
          continue;
        }
        st.latencies_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    });
  }
  for (auto& t : threads)
    t.join();
  Stats all;
  double cpu1 = ProcessCpuSeconds(daemon_pid);
  if (cpu0 >= 0 && cpu1 >= 0) all.daemon_cpu_s = cpu1 - cpu0;
  for (auto& s : per) {
    all.latencies_us.insert(all.latencies_us.end(), s.latencies_us.begin(), s.latencies_us.end());
    all.errors += s.errors;
    all.exhausted += s.exhausted;
  }
  std::sort(all.latencies_us.begin(), all.latencies_us.end());
  return all;
}

void Print(const char* name, const Stats& s, int seconds) {
  auto pct = [&](double p) {
    if (s.latencies_us.empty()) return 0.0;
    return s.latencies_us[std::min(s.latencies_us.size() - 1,
                                   static_cast<size_t>(p * s.latencies_us.size()))] /
           1000.0;
  };
  std::printf("%-22s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  ok %zu  errors %ld", name,
              static_cast<double>(s.latencies_us.size()) / seconds, pct(0.50), pct(0.99),
              s.latencies_us.size(), s.errors);
  if (s.daemon_cpu_s > 0 && !s.latencies_us.empty()) {
    std::printf("  daemon cpu %.1f us/req (%.2f cores)",
                s.daemon_cpu_s * 1e6 / static_cast<double>(s.latencies_us.size()),
                s.daemon_cpu_s / seconds);
  }
  if (s.exhausted > 0) std::printf("  EXHAUSTED on %ld connections", s.exhausted);
  std::printf("\n");
}

// Writes `count` callbacks (unique MsgIds) to `path`, one "<target>\t<body>" per line.
int WriteRequests(const char* path, long count) {
  int64_t base = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() *
                 1000;
  int parts = 64;
  auto requests = Prepare(
      parts, static_cast<size_t>(std::max(1L, count) / parts + (count % parts ? 1 : 0)), base);
  std::FILE* out = std::fopen(path, "w");
  if (!out) {
    std::perror(path);
    return 1;
  }
  long written = 0;
  for (const auto& part : requests) {
    for (size_t i = 0; i < part.size() && written < count; ++i, ++written) {
      std::fprintf(out, "%s\t%s\n", part[i].target.c_str(), part[i].body.c_str());
    }
  }
  return std::fclose(out) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "--write-requests") {
    return WriteRequests(argv[2], std::atol(argv[3]));
  }
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: kefu_channels_callback_load <port> [connections] [seconds] [daemon_pid] "
                 "[max_msgs_per_s]\n"
                 "       kefu_channels_callback_load --write-requests <file> <count>\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  int connections = std::max(1, argc > 2 ? std::atoi(argv[2]) : 64);
  int seconds = std::max(1, argc > 3 ? std::atoi(argv[3]) : 10);
  int daemon_pid = argc > 4 ? std::atoi(argv[4]) : 0;
  long max_rate = argc > 5 ? std::atol(argv[5]) : 80000;
  int64_t base = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() *
                 1000;
  size_t per_connection = static_cast<size_t>(std::max(1L, max_rate) * seconds / connections + 1);
  auto requests = Prepare(connections, per_connection, base);
  Stats noop = Run(port, connections, seconds, nullptr, daemon_pid);
  Stats cb = Run(port, connections, seconds, &requests, daemon_pid);
  Print("GET /healthz (no-op)", noop, seconds);
  Print("POST /callback/wecom", cb, seconds);
  if (!noop.latencies_us.empty()) {
    std::printf("callback/no-op throughput ratio %.2f\n",
                static_cast<double>(cb.latencies_us.size()) /
                    static_cast<double>(noop.latencies_us.size()));
  }
  return 0;
}
