#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "channels/common/wx_crypto.h"
#include "storage/database.h"
#include "tests/fakes/fake_wecom.h"
#include "tests/support/temp_dir.h"

namespace kefu::channels {
namespace {

using fakes::FakeWecom;
using fakes::Fault;
using namespace std::chrono_literals;

constexpr char kAppendixA[] =
    "/callback/wecom/main?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp="
    "1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3z"
    "Ndtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D";

// Runs kefu_channels_testd as a child process.
class Daemon {
 public:
  Daemon(const std::string& data_dir, const std::string& api_base, const std::string& port_file) {
    std::remove(port_file.c_str());
    pid_ = fork();
    if (pid_ == 0) {
      execl(KEFU_CHANNELS_TESTD, KEFU_CHANNELS_TESTD, data_dir.c_str(), api_base.c_str(),
            port_file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 300 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (in >> port_) break;
      std::this_thread::sleep_for(20ms);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      waitpid(pid_, &st, 0);
    }
  }
  void Kill9() {
    kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  int port() const { return port_; }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(5, 0);
    return c;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct Post {
  std::string target;
  std::string body;
};

Post SignedText(const std::string& msg_id, const std::string& nonce = "n1") {
  AesKey key;
  (void)DecodeAesKey("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", key);
  std::string xml =
      "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA["
      "zhangsan]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]>"
      "</MsgType><Content><![CDATA[hello]]></Content><MsgId>" +
      msg_id + "</MsgId><AgentID>1000002</AgentID></xml>";
  std::string enc;
  (void)Encrypt(key, xml, "wx5823bf96d3bd56c7", "aaaabbbbccccdddd", enc);
  std::string sig = Sha1Signature("QDG6eK", "1409659813", nonce, enc);
  return {"/callback/wecom/main?msg_signature=" + sig + "&timestamp=1409659813&nonce=" + nonce,
          "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[" + enc +
              "]]></Encrypt></xml>"};
}

int64_t CountRows(const std::string& db_path, const std::string& table) {
  storage::DatabaseOptions o;
  o.path = db_path;
  o.read_only = true;
  auto db = storage::Database::Open(o);
  if (!db.ok()) return -1;
  auto st = (*db)->Prepare("SELECT COUNT(*) FROM " + table);
  if (!st.ok() || !(*st)->Step().ok()) return -1;
  return (*st)->ColumnInt64(0);
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

struct Env {
  Env() : wecom("wx5823bf96d3bd56c7", "app-secret") { wecom.Start(); }
  std::string db() const { return dir.File("data") + "/kefu.db"; }
  kefu::testing::TempDir dir;
  FakeWecom wecom;
};

TEST(ChannelsEndToEnd, AppendixAVectorPassesThroughTheHttpEndpoint) {
  Env e;
  Daemon d(e.dir.File("data"), e.wecom.base_url(), e.dir.File("port"));
  ASSERT_GT(d.port(), 0);
  auto res = d.Client().Get(kAppendixA);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "1616140317555161061");
}

TEST(ChannelsEndToEnd, ForgedSignatureIs403AndNothingIsStoredOrSent) {
  Env e;
  Daemon d(e.dir.File("data"), e.wecom.base_url(), e.dir.File("port"));
  ASSERT_GT(d.port(), 0);
  Post p = SignedText("1");
  std::string forged = p.target;
  forged[forged.find("msg_signature=") + 14] ^= 1;
  auto res = d.Client().Post(forged, p.body, "text/xml");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_TRUE(res->body.empty());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(CountRows(e.db(), "channel_inbound"), 0);
  EXPECT_EQ(e.wecom.Count(FakeWecom::kMessageSend), 0u);
}

TEST(ChannelsEndToEnd, SameCallbackThreeTimesConcurrentlyIsStoredAndAnsweredOnce) {
  Env e;
  Daemon d(e.dir.File("data"), e.wecom.base_url(), e.dir.File("port"));
  ASSERT_GT(d.port(), 0);
  Post p = SignedText("4561255354251345929");
  std::vector<std::future<int>> fs;
  for (int i = 0; i < 3; ++i) {
    fs.push_back(std::async(std::launch::async, [&] {
      auto r = d.Client().Post(p.target, p.body, "text/xml");
      return r ? r->status : -1;
    }));
  }
  for (auto& f : fs)
    EXPECT_EQ(f.get(), 200);
  ASSERT_TRUE(WaitFor([&] { return e.wecom.Count(FakeWecom::kMessageSend) >= 1; }));
  std::this_thread::sleep_for(1500ms);  // a second reply would have gone out by now
  EXPECT_EQ(CountRows(e.db(), "channel_inbound"), 1);
  EXPECT_EQ(e.wecom.SentTexts(FakeWecom::kMessageSend), std::vector<std::string>{"echo: hello"});
}

TEST(ChannelsEndToEnd, KillMinus9AfterAckBeforeReplyDeliversTheReplyExactlyOnceAfterRestart) {
  Env e;
  // No token can be fetched: the reply stays in the outbox.
  e.wecom.Inject(FakeWecom::kGetToken, {Fault::Kind::kHttpStatus, 503, {}}, 100000);
  {
    Daemon d(e.dir.File("data"), e.wecom.base_url(), e.dir.File("port"));
    ASSERT_GT(d.port(), 0);
    Post p = SignedText("42");
    auto res = d.Client().Post(p.target, p.body, "text/xml");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);  // acknowledged: the row is committed
    ASSERT_TRUE(WaitFor([&] { return CountRows(e.db(), "channel_outbox") == 1; }));
    d.Kill9();
  }
  EXPECT_EQ(e.wecom.Count(FakeWecom::kMessageSend), 0u);
  e.wecom.ClearFaults();
  Daemon again(e.dir.File("data"), e.wecom.base_url(), e.dir.File("port"));
  ASSERT_GT(again.port(), 0);
  ASSERT_TRUE(WaitFor([&] { return e.wecom.Count(FakeWecom::kMessageSend) >= 1; }, 15s));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(e.wecom.SentTexts(FakeWecom::kMessageSend), std::vector<std::string>{"echo: hello"});
  EXPECT_EQ(CountRows(e.db(), "channel_inbound"), 1);
}

}  // namespace
}  // namespace kefu::channels
