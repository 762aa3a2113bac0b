#include "channels/wecom/wecom_callback.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "channels/common/callback_util.h"
#include "channels/wecom/wecom_message.h"
#include "tests/unit/channels/common/test_db.h"

namespace kefu::channels::wecom {
namespace {

using channels::testing::TestDb;

constexpr char kToken[] = "QDG6eK";
constexpr char kKey[] = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
constexpr char kCorp[] = "wx5823bf96d3bd56c7";

WecomAppConfig App(int64_t skew) {
  WecomAppConfig a;
  a.name = "main";
  a.corp_id = kCorp;
  a.agent_id = 218;
  a.token = kToken;
  a.encoding_aes_key = kKey;
  a.secret = "s";
  a.max_timestamp_skew_s = skew;
  return a;
}

class Sink : public InboundSink {
 public:
  void OnInbound(const StoredInbound& m) override {
    std::lock_guard lock(mu);
    got.push_back(m);
  }
  std::mutex mu;
  std::vector<StoredInbound> got;
};

struct Fixture {
  explicit Fixture(int64_t skew = 300, TimePoint now = FromUnixSeconds(1409659813))
      : clock(now),
        recorder(*db.writer, &sink),
        handler(App(skew), clock, recorder, nullptr, db.registry) {}
  HttpResponse Call(std::string method, std::string target, std::string body = "") {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    std::promise<HttpResponse> p;
    handler.Handle(req, [&](HttpResponse r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  size_t Stored() {
    auto rows = db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 1000); });
    return rows.ok() ? rows->size() : 999;
  }
  TestDb db;
  FakeClock clock;
  Sink sink;
  InboundRecorder recorder;
  WecomCallbackHandler handler;
};

std::string TextXml(const std::string& msg_id, const std::string& content = "hello") {
  return "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
         "<FromUserName><![CDATA[mycreate]]></FromUserName><CreateTime>1409659813</CreateTime>"
         "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" +
         content + "]]></Content><MsgId>" + msg_id + "</MsgId><AgentID>218</AgentID></xml>";
}

struct Signed {
  std::string target;
  std::string body;
};

Signed SignPost(const std::string& plain, const std::string& ts = "1409659813",
                const std::string& nonce = "nonce1", const std::string& rid = kCorp) {
  AesKey key;
  EXPECT_EQ(DecodeAesKey(kKey, key), CryptoError::kOk);
  std::string enc;
  EXPECT_EQ(Encrypt(key, plain, rid, "aaaabbbbccccdddd", enc), CryptoError::kOk);
  std::string sig = Sha1Signature(kToken, ts, nonce, enc);
  return {"/callback/wecom/main?msg_signature=" + sig + "&timestamp=" + ts + "&nonce=" + nonce,
          "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><AgentID><![CDATA[218]]>"
          "</AgentID><Encrypt><![CDATA[" +
              enc + "]]></Encrypt></xml>"};
}

constexpr char kAppendixA[] =
    "/cgi-bin/wxpush?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&"
    "nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%"
    "2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D";

TEST(WecomCallback, AppendixAUrlVerificationAnswersExactPlaintextWithFreshnessOff) {
  Fixture f(0, FromUnixSeconds(1'800'000'000));
  HttpResponse r = f.Call("GET", kAppendixA);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "1616140317555161061");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
}

TEST(WecomCallback, AppendixAIsStaleWithDefaultSkew) {
  Fixture f(300, FromUnixSeconds(1'800'000'000));
  HttpResponse r = f.Call("GET", kAppendixA);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.body.empty());
}

TEST(WecomCallback, UrlVerificationWithForgedSignatureIs403Empty) {
  Fixture f(0);
  std::string t = kAppendixA;
  t.replace(t.find("5c45ff"), 6, "5c45fe");
  HttpResponse r = f.Call("GET", t);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.body.empty());
}

TEST(WecomCallback, EncryptedTextIsStoredThenAcknowledgedWithEmpty200) {
  Fixture f;
  Signed s = SignPost(TextXml("4561255354251345929"));
  HttpResponse r = f.Call("POST", s.target, s.body);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  ASSERT_EQ(f.Stored(), 1u);  // committed before the answer
  ASSERT_EQ(f.sink.got.size(), 1u);
  const InboundMessage& m = f.sink.got[0].message;
  EXPECT_EQ(m.text, "hello");
  EXPECT_EQ(m.sender, "mycreate");
  EXPECT_EQ(m.platform_msg_id, "4561255354251345929");
  EXPECT_EQ(m.dedupe_key, "wecom|4561255354251345929|wx5823bf96d3bd56c7|218|mycreate");
}

TEST(WecomMessage, ReplyContextIsJsonWithTheSenderAndAgentEscaped) {
  XmlFields f;
  f.emplace("FromUserName", std::string("a\"b\\c\n\x01张三"));
  f.emplace("MsgType", "text");
  f.emplace("AgentID", "218");
  f.emplace("MsgId", "42");
  auto m = ToInbound("main", "ww1", f, "<xml/>", 0);
  ASSERT_TRUE(m.ok());
  auto ctx = nlohmann::json::parse(m->reply_context, nullptr, false);
  ASSERT_TRUE(ctx.is_object()) << m->reply_context;
  EXPECT_EQ(ctx["touser"], "a\"b\\c\n\x01张三");
  EXPECT_EQ(ctx["agent_id"], "218");
  EXPECT_EQ(ctx.size(), 2u);
}

TEST(WecomCallback, SameCallbackThreeTimesConcurrentlyIsStoredOnce) {
  Fixture f;
  Signed s = SignPost(TextXml("1"));
  std::vector<std::future<HttpResponse>> fs;
  for (int i = 0; i < 3; ++i) {
    fs.push_back(std::async(std::launch::async, [&] { return f.Call("POST", s.target, s.body); }));
  }
  for (auto& x : fs)
    EXPECT_EQ(x.get().status, 200);
  EXPECT_EQ(f.Stored(), 1u);
  EXPECT_EQ(f.sink.got.size(), 1u);
}

TEST(WecomCallback, RedeliveryWithNewNonceIsDeduplicatedByMsgId) {
  Fixture f;
  Signed a = SignPost(TextXml("77"), "1409659813", "n1");
  Signed b = SignPost(TextXml("77"), "1409659814", "n2");
  EXPECT_EQ(f.Call("POST", a.target, a.body).status, 200);
  EXPECT_EQ(f.Call("POST", b.target, b.body).status, 200);
  EXPECT_EQ(f.Stored(), 1u);
}

TEST(WecomCallback, ForgedSignatureIs403AndNothingStored) {
  Fixture f;
  Signed s = SignPost(TextXml("1"));
  std::string t = s.target;
  size_t p = t.find("msg_signature=") + 14;
  t[p] = t[p] == 'a' ? 'b' : 'a';
  EXPECT_EQ(f.Call("POST", t, s.body).status, 403);
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(WecomCallback, StaleTimestampIs403AndNothingStored) {
  Fixture f(300, FromUnixSeconds(1409659813 + 301));
  Signed s = SignPost(TextXml("1"));
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 403);
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(WecomCallback, FutureTimestampBeyondSkewIs403) {
  Fixture f(300, FromUnixSeconds(1409659813 - 301));
  Signed s = SignPost(TextXml("1"));
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 403);
}

TEST(WecomCallback, MissingQueryParametersAre403) {
  Fixture f;
  Signed s = SignPost(TextXml("1"));
  EXPECT_EQ(f.Call("POST", "/callback/wecom/main?timestamp=1&nonce=2", s.body).status, 403);
  EXPECT_EQ(f.Call("POST", "/callback/wecom/main", s.body).status, 403);
}

TEST(WecomCallback, WrongReceiveIdAfterGoodSignatureIs200AndNothingStored) {
  Fixture f;
  Signed s = SignPost(TextXml("1"), "1409659813", "n", "ww1436e0e65a779aee");
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 200);
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(WecomCallback, MalformedDecryptedXmlIs200AndNothingStored) {
  Fixture f;
  Signed s = SignPost("<xml><MsgType>text</xml>");
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 200);
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(WecomCallback, DoctypeInDecryptedPlaintextIsRejected) {
  Fixture f;
  Signed s =
      SignPost("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + TextXml("1", "&e;"));
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 200);
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(WecomCallback, DoctypeInEnvelopeIs403) {
  Fixture f;
  Signed s = SignPost(TextXml("1"));
  EXPECT_EQ(f.Call("POST", s.target, "<!DOCTYPE xml [<!ENTITY a \"b\">]>" + s.body).status, 403);
  EXPECT_EQ(f.Stored(), 0u);
}

TEST(WecomCallback, HugeBodyIs413) {
  Fixture f;
  Signed s = SignPost(TextXml("1"));
  EXPECT_EQ(f.Call("POST", s.target, s.body + std::string(2 << 20, ' ')).status, 413);
}

TEST(WecomCallback, UnknownMsgTypeIsAcknowledgedAndStored) {
  Fixture f;
  Signed s = SignPost(
      "<xml><FromUserName>u</FromUserName><CreateTime>1409659813</CreateTime><MsgType>hologram"
      "</MsgType><MsgId>9</MsgId><AgentID>218</AgentID></xml>");
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 200);
  ASSERT_EQ(f.sink.got.size(), 1u);
  EXPECT_EQ(f.sink.got[0].message.msg_type, "hologram");
}

TEST(WecomCallback, DistinctEventsInTheSameSecondAreNotMerged) {
  Fixture f;
  std::string a =
      "<xml><FromUserName>FromUser</FromUserName><CreateTime>1409659813</CreateTime>"
      "<MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey><AgentID>1</AgentID>"
      "</xml>";
  std::string b = a;
  b.insert(b.size() - 6, "<Extra>x</Extra>");
  Signed sa = SignPost(a, "1409659813", "n1");
  Signed sb = SignPost(b, "1409659813", "n2");
  EXPECT_EQ(f.Call("POST", sa.target, sa.body).status, 200);
  EXPECT_EQ(f.Call("POST", sb.target, sb.body).status, 200);
  EXPECT_EQ(f.Stored(), 2u);
  EXPECT_EQ(f.sink.got[0].message.event, "enter_agent");
}

TEST(WecomCallback, SplitCdataEmojiAndHugeMsgIdSurvive) {
  Fixture f;
  Signed s = SignPost(TextXml("18446744073709551615", "x]]]]><![CDATA[>y 😀👨‍👩‍👧"));
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 200);
  ASSERT_EQ(f.sink.got.size(), 1u);
  EXPECT_EQ(f.sink.got[0].message.text, "x]]>y 😀👨‍👩‍👧");
  EXPECT_EQ(f.sink.got[0].message.platform_msg_id, "18446744073709551615");
}

TEST(WecomCallback, StorageFailureIs503SoWecomRetries) {
  Fixture f;
  ASSERT_TRUE(
      f.db.writer->Run([](storage::Database& d) { return d.Exec("DROP TABLE channel_inbound"); })
          .ok());
  Signed s = SignPost(TextXml("1"));
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 503);
}

TEST(WecomCallback, RetryWithTheSameTripleAfterA503IsStoredNotTreatedAsDuplicate) {
  Fixture f;
  ASSERT_TRUE(f.db.writer
                  ->Run([](storage::Database& d) {
                    return d.Exec("ALTER TABLE channel_inbound RENAME TO channel_inbound_away");
                  })
                  .ok());
  Signed s = SignPost(TextXml("5"));
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 503);
  ASSERT_TRUE(f.db.writer
                  ->Run([](storage::Database& d) {
                    return d.Exec("ALTER TABLE channel_inbound_away RENAME TO channel_inbound");
                  })
                  .ok());
  EXPECT_EQ(f.Call("POST", s.target, s.body).status, 200);
  EXPECT_EQ(f.Stored(), 1u);
}

TEST(WecomMessage, PassiveReplySwapsToAndFromAndSplitsCdata) {
  std::string x = PassiveTextReply("mycreate", kCorp, 1409659813, "a]]>b");
  auto fields = ParseFlatXml(x);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(FieldOr(*fields, "ToUserName"), "mycreate");
  EXPECT_EQ(FieldOr(*fields, "FromUserName"), kCorp);
  EXPECT_EQ(FieldOr(*fields, "Content"), "a]]>b");
}

}  // namespace
}  // namespace kefu::channels::wecom
