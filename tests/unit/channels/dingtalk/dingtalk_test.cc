#include <gtest/gtest.h>

#include <future>

#include "channels/dingtalk/dingtalk_callback.h"
#include "channels/dingtalk/dingtalk_sender.h"
#include "tests/fakes/fake_dingtalk.h"
#include "tests/unit/channels/common/test_db.h"

namespace kefu::channels::dingtalk {
namespace {

using channels::testing::TestDb;
using fakes::FakeDingtalk;
using std::chrono::seconds;

constexpr char kAesKey[] = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
constexpr int64_t kNowMs = 1'700'000'000'000;

DingtalkAppConfig App(const std::string& oapi = "https://oapi.dingtalk.com") {
  DingtalkAppConfig a;
  a.name = "main";
  a.app_key = "dingappkey";
  a.app_secret = "appsecret";
  a.robot_code = "";
  a.token = "evtoken";
  a.aes_key = kAesKey;
  a.oapi_base = oapi;
  return a;
}

nlohmann::json RobotBody(const std::string& msg_id, const std::string& webhook, int64_t expires,
                         const std::string& conv_type = "1") {
  return {{"msgtype", "text"},
          {"text", {{"content", " 你好"}}},
          {"msgId", msg_id},
          {"createAt", kNowMs},
          {"conversationType", conv_type},
          {"conversationId", "cid1"},
          {"senderStaffId", "staff1"},
          {"senderNick", "张三"},
          {"sessionWebhook", webhook},
          {"sessionWebhookExpiredTime", expires},
          {"robotCode", "dingrobot"}};
}

struct Fixture {
  Fixture()
      : clock(FromUnixMs(kNowMs)),
        recorder(*db.writer, nullptr),
        handler(App(), clock, recorder, db.registry) {}
  HttpResponse Call(bool event, HttpRequest req) {
    std::promise<HttpResponse> p;
    auto cb = [&](HttpResponse r) { p.set_value(std::move(r)); };
    if (event) {
      handler.HandleEvent(req, cb);
    } else {
      handler.HandleRobot(req, cb);
    }
    return p.get_future().get();
  }
  HttpRequest Robot(const std::string& body, int64_t ts_ms,
                    const std::string& secret = "appsecret") {
    HttpRequest r;
    r.method = "POST";
    r.target = "/callback/dingtalk/main";
    r.body = body;
    r.headers["Timestamp"] = std::to_string(ts_ms);
    r.headers["Sign"] = DingtalkRobotSign(std::to_string(ts_ms), secret);
    return r;
  }
  size_t Stored() {
    auto rows = db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 100); });
    return rows.ok() ? rows->size() : 999;
  }
  TestDb db;
  FakeClock clock;
  InboundRecorder recorder;
  DingtalkCallbackHandler handler;
};

TEST(DingtalkRobotCallback, SignedMessageIsStoredWithTrimmedTextAndDedupedByMsgId) {
  Fixture f;
  std::string body = RobotBody("msgA", "https://oapi.dingtalk.com/robot/sendBySession?session=x",
                               kNowMs + 5'400'000)
                         .dump();
  HttpResponse r = f.Call(false, f.Robot(body, kNowMs));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.Call(false, f.Robot(body, kNowMs + 1000)).status, 200);
  ASSERT_EQ(f.Stored(), 1u);
  auto rows = f.db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 10); });
  EXPECT_EQ((*rows)[0].message.text, "你好");
  EXPECT_NE((*rows)[0].message.payload.find(" 你好"), std::string::npos);
  EXPECT_EQ((*rows)[0].message.sender, "staff1");
  auto ctx = nlohmann::json::parse((*rows)[0].message.reply_context);
  EXPECT_EQ(ctx["sessionWebhook"], "https://oapi.dingtalk.com/robot/sendBySession?session=x");
}

TEST(DingtalkRobotCallback, ForgedSignIs403AndNothingStored) {
  Fixture f;
  std::string body = RobotBody("m", "", 0).dump();
  EXPECT_EQ(f.Call(false, f.Robot(body, kNowMs, "othersecret")).status, 403);
  HttpRequest no_headers = f.Robot(body, kNowMs);
  no_headers.headers.clear();
  EXPECT_EQ(f.Call(false, no_headers).status, 403);
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(DingtalkRobotCallback, TimestampOlderThanOneHourIsRejectedExactlyOneHourAccepted) {
  Fixture f;
  EXPECT_EQ(f.Call(false, f.Robot(RobotBody("a", "", 0).dump(), kNowMs - 3'600'001)).status, 403);
  EXPECT_EQ(f.Call(false, f.Robot(RobotBody("b", "", 0).dump(), kNowMs - 3'600'000)).status, 200);
  EXPECT_EQ(f.Call(false, f.Robot(RobotBody("c", "", 0).dump(), kNowMs + 3'600'001)).status, 403);
  EXPECT_EQ(f.Stored(), 1u);
}

TEST(DingtalkRobotCallback, ForeignSessionWebhookIsNotTrusted) {
  Fixture f;
  std::string body = RobotBody("m", "http://169.254.169.254/latest", kNowMs + 100000).dump();
  EXPECT_EQ(f.Call(false, f.Robot(body, kNowMs)).status, 200);
  auto rows = f.db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 10); });
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_FALSE(nlohmann::json::parse((*rows)[0].message.reply_context).contains("sessionWebhook"));
}

TEST(DingtalkRobotCallback, InvalidJsonWithGoodSignIs400) {
  Fixture f;
  EXPECT_EQ(f.Call(false, f.Robot("{not json", kNowMs)).status, 400);
  EXPECT_EQ(f.Stored(), 0u);
}

HttpRequest EventRequest(const std::string& plain, const std::string& ts, const std::string& nonce,
                         bool alt_names = false) {
  AesKey key;
  EXPECT_EQ(DecodeAesKey(kAesKey, key), CryptoError::kOk);
  std::string enc;
  EXPECT_EQ(Encrypt(key, plain, "dingappkey", "aaaabbbbccccdddd", enc), CryptoError::kOk);
  HttpRequest r;
  r.method = "POST";
  std::string sig = Sha1Signature("evtoken", ts, nonce, enc);
  r.target = std::string("/callback/dingtalk/main/event?") +
             (alt_names ? "signature=" : "msg_signature=") + sig +
             (alt_names ? "&timeStamp=" : "&timestamp=") + ts + "&nonce=" + nonce;
  r.body = nlohmann::json{{"encrypt", enc}}.dump();
  return r;
}

std::string DecryptSuccess(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) return "";
  std::string enc = j.value("encrypt", "");
  if (j.value("msg_signature", "") !=
      Sha1Signature("evtoken", j.value("timeStamp", ""), j.value("nonce", ""), enc)) {
    return "bad signature";
  }
  AesKey key;
  (void)DecodeAesKey(kAesKey, key);
  std::string out;
  (void)Decrypt(key, enc, "dingappkey", out);
  return out;
}

TEST(DingtalkEventCallback, CheckUrlGetsEncryptedSuccessWithEitherParameterSpelling) {
  Fixture f;
  HttpResponse r =
      f.Call(true, EventRequest(R"({"EventType":"check_url"})", std::to_string(kNowMs), "n1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(DecryptSuccess(r), "success");
  HttpResponse r2 = f.Call(
      true, EventRequest(R"({"EventType":"check_url"})", std::to_string(kNowMs), "n2", true));
  EXPECT_EQ(DecryptSuccess(r2), "success");
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(DingtalkEventCallback, EventIsStoredOnceThenAnsweredSuccess) {
  Fixture f;
  std::string ev = R"({"EventType":"user_add_org","UserId":["u1"],"TimeStamp":"1700000000000"})";
  EXPECT_EQ(DecryptSuccess(f.Call(true, EventRequest(ev, std::to_string(kNowMs), "a"))), "success");
  EXPECT_EQ(DecryptSuccess(f.Call(true, EventRequest(ev, std::to_string(kNowMs), "b"))), "success");
  EXPECT_EQ(f.Stored(), 1u);
}

TEST(DingtalkEventCallback, ForgedOrStaleOrSecondsTimestampIs403) {
  Fixture f;
  HttpRequest forged = EventRequest(R"({"EventType":"x"})", std::to_string(kNowMs), "n");
  forged.target.replace(forged.target.find("nonce=n"), 7, "nonce=m");
  EXPECT_EQ(f.Call(true, forged).status, 403);
  EXPECT_EQ(
      f.Call(true, EventRequest(R"({"EventType":"x"})", std::to_string(kNowMs - 301'000), "n"))
          .status,
      403);
  // A seconds timestamp is 1000x too small for the ms check: never mixed.
  EXPECT_EQ(
      f.Call(true, EventRequest(R"({"EventType":"x"})", std::to_string(kNowMs / 1000), "n")).status,
      403);
  EXPECT_EQ(f.Stored(), 0u);
}

struct SendEnv {
  SendEnv() : ding("dingappkey", "appsecret"), clock(FromUnixMs(kNowMs)) {
    ding.Start();
    app = App(ding.base_url());
    app.api_base = ding.base_url();
  }
  void Enqueue(const std::string& key, const std::string& dest, const nlohmann::json& ctx) {
    OutboundMessage m;
    m.channel = "dingtalk";
    m.app = "main";
    m.destination = dest;
    m.content = "答复";
    m.idempotency_key = key;
    m.reply_context = ctx.dump();
    ASSERT_TRUE(
        db.writer->Run([&](storage::Database& d) { return EnqueueOutbound(d, m, kNowMs).status(); })
            .ok());
  }
  FakeDingtalk ding;
  FakeClock clock;
  DingtalkAppConfig app;
  HttplibClient http;
  TestDb db;
};

TEST(DingtalkSender, RepliesBySessionWebhookUntilExpiryThenByOpenApi) {
  SendEnv e;
  DingtalkApi api(e.app, e.http, e.clock);
  DingtalkSender sender(e.app, api, e.http, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("dingtalk", "main", &sender);
  nlohmann::json ctx = {{"conversationType", "1"},
                        {"senderStaffId", "staff1"},
                        {"robotCode", "dingrobot"},
                        {"sessionWebhook", e.ding.SessionWebhookUrl("s1")},
                        {"sessionWebhookExpiredTime", kNowMs + 120'000}};
  e.Enqueue("k1", "staff1", ctx);
  EXPECT_EQ(d.RunOnce(), 1);
  EXPECT_EQ(e.ding.SentTexts(FakeDingtalk::kSession), std::vector<std::string>{"答复"});
  e.clock.Advance(seconds(61));  // within 60 s of expiry: fall back
  e.Enqueue("k2", "staff1", ctx);
  EXPECT_EQ(d.RunOnce(), 1);
  auto oto = e.ding.Requests(FakeDingtalk::kOtoSend);
  ASSERT_EQ(oto.size(), 1u);
  auto body = oto[0].Json();
  EXPECT_EQ(body["robotCode"], "dingrobot");
  EXPECT_EQ(body["userIds"][0], "staff1");
  EXPECT_EQ(nlohmann::json::parse(body["msgParam"].get<std::string>())["content"], "答复");
}

TEST(DingtalkSender, GroupFallbackUsesGroupSendAndTokenIsRefreshedOnce) {
  SendEnv e;
  DingtalkApi api(e.app, e.http, e.clock);
  DingtalkSender sender(e.app, api, e.http, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("dingtalk", "main", &sender);
  nlohmann::json ctx = {{"conversationType", "2"}, {"conversationId", "cidG"}, {"robotCode", "r"}};
  e.Enqueue("k1", "staff1", ctx);
  EXPECT_EQ(d.RunOnce(), 1);
  e.ding.ExpireTokens();
  e.Enqueue("k2", "staff1", ctx);
  EXPECT_EQ(d.RunOnce(), 1);
  EXPECT_EQ(e.ding.Count(FakeDingtalk::kToken), 2u);
  auto g = e.ding.Requests(FakeDingtalk::kGroupSend);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].Json()["openConversationId"], "cidG");
}

TEST(DingtalkSender, RobotBudgetIsTwentyPerMinuteAndQueued) {
  SendEnv e;
  DingtalkApi api(e.app, e.http, e.clock);
  DingtalkSender sender(e.app, api, e.http, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("dingtalk", "main", &sender);
  nlohmann::json ctx = {{"conversationType", "1"}, {"robotCode", "r"}};
  for (int i = 0; i < 25; ++i)
    e.Enqueue(std::string("k").append(std::to_string(i)), "staff1", ctx);
  EXPECT_EQ(d.RunOnce(), 20);
  e.clock.Advance(seconds(60));
  EXPECT_EQ(d.RunOnce(), 5);
}

}  // namespace
}  // namespace kefu::channels::dingtalk
