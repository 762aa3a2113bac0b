#include "channels/dingtalk/stream_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/fakes/fake_dingtalk.h"
#include "tests/fakes/fake_stream_gateway.h"
#include "tests/unit/channels/common/test_db.h"

namespace kefu::channels::dingtalk {
namespace {

using channels::testing::TestDb;

DingtalkAppConfig App() {
  DingtalkAppConfig a;
  a.name = "main";
  a.app_key = "dingappkey";
  a.app_secret = "appsecret";
  a.mode = DingtalkMode::kStream;
  return a;
}

std::string BotFrame(const std::string& message_id, const std::string& msg_id,
                     const std::string& data_override = "") {
  nlohmann::json data = {
      {"msgId", msg_id},         {"msgtype", "text"},         {"text", {{"content", " 在吗"}}},
      {"conversationType", "1"}, {"senderStaffId", "staff1"}, {"createAt", 1700000000000}};
  return nlohmann::json{{"specVersion", "1.0"},
                        {"type", "CALLBACK"},
                        {"headers",
                         {{"messageId", message_id},
                          {"topic", "/v1.0/im/bot/messages/get"},
                          {"contentType", "application/json"}}},
                        {"data", data_override.empty() ? data.dump() : data_override}}
      .dump();
}

std::string SystemFrame(const std::string& topic, const std::string& message_id,
                        const std::string& data) {
  return nlohmann::json{{"specVersion", "1.0"},
                        {"type", "SYSTEM"},
                        {"headers", {{"messageId", message_id}, {"topic", topic}}},
                        {"data", data}}
      .dump();
}

size_t Stored(TestDb& db) {
  auto rows = db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 100); });
  return rows.ok() ? rows->size() : 999;
}

TEST(StreamFrameHandler, BotCallbackIsStoredThenAckedWithTheSameMessageId) {
  TestDb db;
  FakeClock clock;
  InboundRecorder rec(*db.writer, nullptr);
  StreamFrameHandler h(App(), clock, rec);
  StreamAck ack = h.OnFrame(BotFrame("mid-1", "msgA"));
  auto j = nlohmann::json::parse(ack.frame);
  EXPECT_EQ(j["code"], 200);
  EXPECT_EQ(j["headers"]["messageId"], "mid-1");
  EXPECT_EQ(Stored(db), 1u);
  // Redelivery of the same msgId under a new messageId: ACK 200, stored once.
  EXPECT_EQ(nlohmann::json::parse(h.OnFrame(BotFrame("mid-2", "msgA")).frame)["code"], 200);
  EXPECT_EQ(Stored(db), 1u);
}

TEST(StreamFrameHandler, PingEchoesDataAndDisconnectAcksThenCloses) {
  TestDb db;
  FakeClock clock;
  InboundRecorder rec(*db.writer, nullptr);
  StreamFrameHandler h(App(), clock, rec);
  StreamAck ping = h.OnFrame(SystemFrame("ping", "p1", R"({"opaque":"x"})"));
  EXPECT_EQ(nlohmann::json::parse(ping.frame)["data"], R"({"opaque":"x"})");
  EXPECT_FALSE(ping.close_after);
  StreamAck bye = h.OnFrame(SystemFrame("disconnect", "d1", "{}"));
  EXPECT_EQ(nlohmann::json::parse(bye.frame)["code"], 200);
  EXPECT_TRUE(bye.close_after);
}

TEST(StreamFrameHandler, DataThatIsNotJsonIsAcked400AndNotStored) {
  TestDb db;
  FakeClock clock;
  InboundRecorder rec(*db.writer, nullptr);
  StreamFrameHandler h(App(), clock, rec);
  EXPECT_EQ(nlohmann::json::parse(h.OnFrame(BotFrame("m", "", "{oops")).frame)["code"], 400);
  EXPECT_EQ(Stored(db), 0u);
}

TEST(DingtalkStreamClient, OpensWithTicketAcksMessagesAndReconnectsAfterDisconnect) {
  TestDb db;
  SystemClock clock;
  fakes::FakeStreamGateway gateway;
  gateway.Start();
  fakes::FakeDingtalk ding("dingappkey", "appsecret");
  ding.set_stream_endpoint(gateway.endpoint());
  ding.Start();
  DingtalkAppConfig app = App();
  app.api_base = ding.base_url();
  HttplibClient http;
  DingtalkApi api(app, http, clock);
  InboundRecorder rec(*db.writer, nullptr);
  StreamFrameHandler handler(app, clock, rec);
  DingtalkStreamClient client(api, handler, clock);
  gateway.Push(BotFrame("m1", "msg1"));
  gateway.Push(SystemFrame("ping", "p1", "{}"));
  gateway.Push(SystemFrame("disconnect", "d1", "{}"));
  gateway.Push(BotFrame("m2", "msg2"));
  client.Start();
  ASSERT_TRUE(gateway.WaitForAcks(4, 20000));
  client.Stop();
  auto acks = gateway.Acks();
  EXPECT_EQ(acks[0]["headers"]["messageId"], "m1");
  EXPECT_EQ(acks[3]["headers"]["messageId"], "m2");
  EXPECT_EQ(acks[3]["code"], 200);
  EXPECT_EQ(gateway.connections(), 2);
  EXPECT_EQ(ding.Count(fakes::FakeDingtalk::kOpen), 2u);  // a fresh ticket per connection
  EXPECT_NE(gateway.Targets()[0].find("ticket=ticket-"), std::string::npos);
  EXPECT_EQ(Stored(db), 2u);
}

TEST(StreamKeepAlive, PingsAfterAQuietMinuteAndGivesUpAfterTwoSilentMinutes) {
  FakeClock clock;
  StreamKeepAlive k(clock, StreamKeepAliveOptions{});
  using Action = StreamKeepAlive::Action;
  EXPECT_EQ(k.Check(), Action::kNone);
  clock.Advance(std::chrono::seconds(59));
  EXPECT_EQ(k.Check(), Action::kNone);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(k.Check(), Action::kPing);
  k.OnPingSent();
  EXPECT_EQ(k.Check(), Action::kNone);
  clock.Advance(std::chrono::seconds(60));  // 120 s without anything received: not yet dead
  EXPECT_EQ(k.Check(), Action::kPing);
  k.OnPingSent();
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(k.Check(), Action::kReconnect);
  k.OnReceived();  // a pong (or any frame) keeps the connection
  EXPECT_EQ(k.Check(), Action::kNone);
  clock.Advance(std::chrono::seconds(60));
  EXPECT_EQ(k.Check(), Action::kPing);
}

// Waits (real time, bounded) for `done`; the decisions themselves run on the FakeClock.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 2000 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

struct StreamEnv {
  StreamEnv() {
    gateway.Start();
    ding.set_stream_endpoint(gateway.endpoint());
    ding.Start();
    app.api_base = ding.base_url();
  }
  TestDb db;
  FakeClock clock;
  fakes::FakeStreamGateway gateway;
  fakes::FakeDingtalk ding{"dingappkey", "appsecret"};
  DingtalkAppConfig app = App();
  HttplibClient http;
};

TEST(DingtalkStreamClient, SendsAWebSocketPingWhenTheConnectionWasQuietForAMinute) {
  StreamEnv e;
  DingtalkApi api(e.app, e.http, e.clock);
  InboundRecorder rec(*e.db.writer, nullptr);
  StreamFrameHandler handler(e.app, e.clock, rec);
  DingtalkStreamClient client(
      api, handler, e.clock,
      {std::chrono::seconds(60), std::chrono::seconds(120), std::chrono::milliseconds(5)});
  client.Start();
  ASSERT_TRUE(Eventually([&] { return client.sessions() == 1; }));
  EXPECT_EQ(client.pings(), 0);
  e.clock.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(Eventually([&] { return client.pings() == 1; }));
  e.gateway.Push(BotFrame("m1", "msg1"));  // the gateway reads the ping before the ACK
  ASSERT_TRUE(e.gateway.WaitForAcks(1));
  client.Stop();
  EXPECT_EQ(e.gateway.pings(), 1);
  EXPECT_EQ(e.gateway.connections(), 1);
  EXPECT_EQ(Stored(e.db), 1u);
}

TEST(DingtalkStreamClient, ReconnectsWithAFreshTicketWhenTheGatewayIsSilentForTwoMinutes) {
  StreamEnv e;
  DingtalkApi api(e.app, e.http, e.clock);
  InboundRecorder rec(*e.db.writer, nullptr);
  StreamFrameHandler handler(e.app, e.clock, rec);
  DingtalkStreamClient client(
      api, handler, e.clock,
      {std::chrono::seconds(60), std::chrono::seconds(120), std::chrono::milliseconds(5)});
  client.Start();
  ASSERT_TRUE(Eventually([&] { return client.sessions() == 1; }));
  e.clock.Advance(std::chrono::seconds(61));  // pinged; the silent gateway does not answer
  ASSERT_TRUE(Eventually([&] { return client.pings() == 1; }));
  EXPECT_EQ(e.ding.Count(fakes::FakeDingtalk::kOpen), 1u);
  e.clock.Advance(std::chrono::seconds(60));  // 121 s without a frame, ping or pong
  ASSERT_TRUE(Eventually([&] { return e.ding.Count(fakes::FakeDingtalk::kOpen) == 2u; }));
  // The new connection gets the next frame (the fake notices the old one is gone when it
  // writes to it).
  e.gateway.Push(BotFrame("m1", "msg1"));
  ASSERT_TRUE(e.gateway.WaitForAcks(1));
  client.Stop();
  EXPECT_EQ(e.gateway.connections(), 2);
  EXPECT_EQ(client.sessions(), 2);
  EXPECT_EQ(Stored(e.db), 1u);
}

}  // namespace
}  // namespace kefu::channels::dingtalk
