// Load generator for the WeCom callback path: N keep-alive connections POST encrypted text
// callbacks with unique MsgIds (verify -> decrypt -> parse -> dedupe -> durable store -> 200),
// and, in the same run, GET the daemon's no-op route /healthz for comparison.
//
//   kefu_channels_callback_load <port> [connections=64] [seconds=10]
//
// Prints msgs/s, p50 and p99 for both routes. Requests are encrypted by the generator threads
// (same machine, same cores), which costs the daemon some CPU: the numbers are a lower bound.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "channels/common/wx_crypto.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  std::vector<double> latencies_us;
  long errors = 0;
};

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

Stats Run(int port, int connections, int seconds, bool callback, int64_t id_base) {
  std::vector<Stats> per(static_cast<size_t>(connections));
  std::atomic<int64_t> next_id{id_base};
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  kefu::channels::AesKey key;
  (void)kefu::channels::DecodeAesKey("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", key);
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // headers and body are separate writes: avoid Nagle + delayed ACK
      cli.set_read_timeout(10, 0);
      Stats& st = per[static_cast<size_t>(c)];
      while (Clock::now() < deadline) {
        std::string target;
        std::string body;
        if (callback) body = Body(key, next_id++, &target);
        auto t0 = Clock::now();
        auto res = callback ? cli.Post(target, body, "text/xml") : cli.Get("/healthz");
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
  for (auto& s : per) {
    all.latencies_us.insert(all.latencies_us.end(), s.latencies_us.begin(), s.latencies_us.end());
    all.errors += s.errors;
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
  std::printf("%-22s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  ok %zu  errors %ld\n", name,
              static_cast<double>(s.latencies_us.size()) / seconds, pct(0.50), pct(0.99),
              s.latencies_us.size(), s.errors);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kefu_channels_callback_load <port> [connections] [seconds]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  int connections = argc > 2 ? std::atoi(argv[2]) : 64;
  int seconds = argc > 3 ? std::atoi(argv[3]) : 10;
  int64_t base = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() *
                 1000;
  Stats noop = Run(port, connections, seconds, false, 0);
  Stats cb = Run(port, connections, seconds, true, base);
  Print("GET /healthz (no-op)", noop, seconds);
  Print("POST /callback/wecom", cb, seconds);
  if (!noop.latencies_us.empty()) {
    std::printf("callback/no-op throughput ratio %.2f\n",
                static_cast<double>(cb.latencies_us.size()) /
                    static_cast<double>(noop.latencies_us.size()));
  }
  return 0;
}
