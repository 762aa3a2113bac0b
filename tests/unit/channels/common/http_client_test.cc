#include "channels/common/http_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "channels/common/token_cache.h"
#include "tests/fakes/fake_wecom.h"

namespace kefu::channels {
namespace {

using fakes::FakeWecom;
using fakes::Fault;

OutboundRequest Get(const std::string& url) {
  OutboundRequest req;
  req.method = "GET";
  req.url = url;
  return req;
}

TEST(HttplibClient, GetsTokenFromFakeWecomOverLoopback) {
  FakeWecom wecom("ww1", "s3cret");
  wecom.Start();
  HttplibClient client;
  OutboundRequest req;
  req.method = "GET";
  req.url = wecom.base_url() + "/cgi-bin/gettoken?corpid=ww1&corpsecret=s3cret";
  auto res = client.Send(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("access_token"), std::string::npos);
  EXPECT_EQ(wecom.Count(FakeWecom::kGetToken), 1u);
}

TEST(HttplibClient, ServerErrorIsAResponseNotAnError) {
  FakeWecom wecom("ww1", "s");
  wecom.Start();
  wecom.Inject(FakeWecom::kGetToken, {Fault::Kind::kHttpStatus, 502, {}});
  HttplibClient client;
  auto res = client.Send(Get(wecom.base_url() + FakeWecom::kGetToken));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 502);
}

TEST(HttplibClient, SlowServerTimesOutWithinTotalTimeout) {
  FakeWecom wecom("ww1", "s");
  wecom.Start();
  wecom.Inject(FakeWecom::kGetToken, {Fault::Kind::kDelay, 0, std::chrono::milliseconds(1500)});
  HttplibClient client;
  OutboundRequest req;
  req.method = "GET";
  req.url = wecom.base_url() + FakeWecom::kGetToken;
  req.total_timeout = std::chrono::milliseconds(300);
  auto res = client.Send(req);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded);
}

TEST(HttplibClient, DroppedConnectionIsAnError) {
  FakeWecom wecom("ww1", "s");
  wecom.Start();
  wecom.Inject(FakeWecom::kGetToken, {Fault::Kind::kDrop, 0, {}});
  HttplibClient client;
  auto res = client.Send(Get(wecom.base_url() + FakeWecom::kGetToken));
  EXPECT_FALSE(res.ok());
}

TEST(HttplibClient, RefusedConnectionIsUnavailableAndBadUrlInvalid) {
  HttplibClient client;
  OutboundRequest req;
  req.url = "http://127.0.0.1:1/x";
  auto res = client.Send(req);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  req.url = "ftp://x/y";
  EXPECT_EQ(client.Send(req).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpWorkerPool, RunsTasksOffTheCallerThread) {
  std::atomic<int> n{0};
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> other_thread{true};
  {
    HttpWorkerPool pool(2);
    for (int i = 0; i < 10; ++i) {
      pool.Post([&] {
        if (std::this_thread::get_id() == caller) other_thread = false;
        ++n;
      });
    }
  }
  EXPECT_EQ(n.load(), 10);
  EXPECT_TRUE(other_thread.load());
}

TEST(TokenCache, CachesUntilMarginThenRefreshes) {
  FakeClock clock;
  int calls = 0;
  TokenCache cache(clock, [&]() -> Result<FetchedToken> {
    return FetchedToken{std::to_string(++calls), std::chrono::seconds(7200)};
  });
  EXPECT_EQ(*cache.Get(), "1");
  clock.Advance(std::chrono::seconds(6899));
  EXPECT_EQ(*cache.Get(), "1");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(*cache.Get(), "2");
}

TEST(TokenCache, InvalidateRefreshesOnlyTheStaleToken) {
  FakeClock clock;
  int calls = 0;
  TokenCache cache(clock, [&]() -> Result<FetchedToken> {
    return FetchedToken{std::to_string(++calls), std::chrono::seconds(7200)};
  });
  EXPECT_EQ(*cache.Get(), "1");
  cache.Invalidate("1");
  EXPECT_EQ(*cache.Get(), "2");
  cache.Invalidate("1");  // a late invalidation of an old token does not drop the new one
  EXPECT_EQ(*cache.Get(), "2");
  EXPECT_EQ(calls, 2);
}

TEST(TokenCache, BadSecretIsNotRetriedInALoop) {
  FakeClock clock;
  int calls = 0;
  TokenCache cache(clock, [&]() -> Result<FetchedToken> {
    ++calls;
    return Unauthenticated("40001 invalid credential");
  });
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(cache.Get().status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(calls, 1);
  clock.Advance(std::chrono::seconds(3601));
  EXPECT_FALSE(cache.Get().ok());
  EXPECT_EQ(calls, 2);
}

TEST(TokenCache, ConcurrentCallersShareOneFetch) {
  FakeClock clock;
  std::atomic<int> calls{0};
  TokenCache cache(clock, [&]() -> Result<FetchedToken> {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return FetchedToken{"t", std::chrono::seconds(7200)};
  });
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&] { EXPECT_EQ(*cache.Get(), "t"); });
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace kefu::channels
