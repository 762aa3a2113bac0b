// kefuctl simulate's request builders produce callbacks the real handlers accept.
#include <gtest/gtest.h>

#include <future>

#include "channels/dingtalk/dingtalk_callback.h"
#include "channels/wecom/wecom_callback.h"
#include "tests/unit/channels/common/test_db.h"
#include "tools/simulate_commands.h"

namespace kefu::tools {
namespace {

using channels::testing::TestDb;

HttpResponse Call(const std::function<void(HttpRequest&, HttpResponder)>& h, HttpRequest req) {
  std::promise<HttpResponse> p;
  h(req, [&](HttpResponse r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

TEST(SimulateCommand, WecomCallbackIsAcceptedAndStoredByTheHandler) {
  TestDb db;
  SystemClock clock;
  channels::wecom::WecomAppConfig app;
  app.name = "main";
  app.corp_id = "ww123";
  app.agent_id = 1000002;
  app.token = "tok";
  app.encoding_aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
  app.secret = "s";
  channels::InboundRecorder rec(*db.writer, nullptr);
  channels::wecom::WecomCallbackHandler handler(app, clock, rec, nullptr, db.registry);
  auto built = BuildWecomCallback(app, "zhangsan", "退货怎么办 😀", "123", clock.NowUnixSeconds());
  ASSERT_TRUE(built.ok());
  HttpRequest req;
  req.method = "POST";
  req.target = "/callback/wecom/main?" + built->target_suffix;
  req.body = built->body;
  EXPECT_EQ(Call(handler.AsHttpHandler(), req).status, 200);
  auto rows = db.Read([](storage::Database& d) { return channels::LoadUnprocessedInbound(d, 10); });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].message.text, "退货怎么办 😀");
  EXPECT_EQ((*rows)[0].message.sender, "zhangsan");
}

TEST(SimulateCommand, DingtalkCallbackIsAcceptedAndStoredByTheHandler) {
  TestDb db;
  SystemClock clock;
  channels::dingtalk::DingtalkAppConfig app;
  app.name = "main";
  app.app_key = "dingkey";
  app.app_secret = "secret";
  channels::InboundRecorder rec(*db.writer, nullptr);
  channels::dingtalk::DingtalkCallbackHandler handler(app, clock, rec, db.registry);
  auto built = BuildDingtalkCallback(app, "staff1", "你好", "m1", clock.NowUnixMs());
  ASSERT_TRUE(built.ok());
  HttpRequest req;
  req.method = "POST";
  req.body = built->body;
  for (const auto& [k, v] : built->headers)
    req.headers[k] = v;
  EXPECT_EQ(Call(handler.RobotHandler(), req).status, 200);
  auto rows = db.Read([](storage::Database& d) { return channels::LoadUnprocessedInbound(d, 10); });
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

}  // namespace
}  // namespace kefu::tools
