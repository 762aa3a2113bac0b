// The FAQ REST API of the real kefud: every committed change is visible to the matcher at once.
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/daemon/process.h"
#include "tests/support/temp_dir.h"

namespace kefu::testing {
namespace {

using std::chrono::milliseconds;

class FaqApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    config_ = dir_.File("kefud.toml");
    std::ofstream(config_) << "[server]\nlisten = \"127.0.0.1:" << port_ << "\"\n"
                           << "[storage]\ndata_dir = \"" << dir_.File("data") << "\"\n";
    CommandResult r = RunCommand(
        {KEFUCTL_PATH, "--config", config_, "token", "create", "--role", "admin", "--name", "it"},
        dir_.path().string());
    ASSERT_EQ(r.code, 0) << r.err;
    token_ = LastNonEmptyLine(r.out);
    kefud_ =
        std::make_unique<ChildProcess>(std::vector<std::string>{KEFUD_PATH, "--config", config_},
                                       dir_.File("kefud.out"), dir_.File("kefud.err"));
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
      if (HttpCall(port_, "GET", "/healthz").status == 200) return;
      std::this_thread::sleep_for(milliseconds(20));
    }
    FAIL() << "kefud did not start: " << ReadWholeFile(dir_.File("kefud.err"));
  }

  void TearDown() override {
    if (kefud_) {
      kefud_->Signal(SIGTERM);
      kefud_->Wait(std::chrono::seconds(10));
    }
  }

  HttpReply Call(const std::string& method, const std::string& path, const std::string& body = "") {
    return HttpCall(port_, method, path,
                    "Authorization: Bearer " + token_ + "\r\nContent-Type: application/json\r\n",
                    body);
  }

  nlohmann::json Match(const std::string& q) {
    HttpReply r = Call("GET", "/api/v1/faq-match?k=3&q=" + UrlEncode(q));
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  TempDir dir_;
  int port_ = 0;
  std::string config_, token_;
  std::unique_ptr<ChildProcess> kefud_;
};

TEST_F(FaqApiTest, CrudAndSimilarQuestionsAreVisibleToTheMatcherAtOnce) {
  HttpReply created = Call("POST", "/api/v1/faqs",
                           R"({"question": "怎么申请退款", "answer": "在订单页申请",
                               "similar_questions": ["退钱要多久"], "tags": ["售后"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = nlohmann::json::parse(created.body)["id"];
  auto m = Match("退款要多长时间");
  ASSERT_FALSE(m["matches"].empty());
  EXPECT_EQ(m["matches"][0]["faq_id"], id);

  EXPECT_EQ(Call("POST", "/api/v1/faqs", R"({"question": " ", "answer": "x"})").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/faqs/nope").status, 404);

  HttpReply list = Call("GET", "/api/v1/faqs?q=" + UrlEncode("申請退款"));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(nlohmann::json::parse(list.body)["total"], 1);

  HttpReply similar =
      Call("POST", "/api/v1/faqs/" + id + "/similar", R"({"question": "钱能原路退回吗"})");
  ASSERT_EQ(similar.status, 200) << similar.body;
  EXPECT_EQ(nlohmann::json::parse(similar.body)["similar_questions"].size(), 2u);
  m = Match("钱能原路退回吗");
  ASSERT_FALSE(m["matches"].empty());
  EXPECT_EQ(m["matches"][0]["faq_id"], id);
  EXPECT_GE(m["matches"][0]["confidence"].get<double>(), 0.8);

  ASSERT_EQ(Call("PATCH", "/api/v1/faqs/" + id, R"({"enabled": false})").status, 200);
  EXPECT_TRUE(Match("怎么申请退款")["matches"].empty());
  ASSERT_EQ(Call("PATCH", "/api/v1/faqs/" + id, R"({"enabled": true})").status, 200);
  EXPECT_FALSE(Match("怎么申请退款")["matches"].empty());

  EXPECT_EQ(Call("DELETE", "/api/v1/faqs/" + id).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/faqs/" + id).status, 404);
  EXPECT_TRUE(Match("怎么申请退款")["matches"].empty());
}

TEST_F(FaqApiTest, BulkImportReportsBadLinesAndImportsTheRest) {
  const std::string body =
      "{\"id\": \"inv\", \"question\": \"发票怎么开\", \"answer\": \"联系客服\"}\n"
      "{\"id\": \"bad\", \"question\": \"\", \"answer\": \"x\"}\n";
  HttpReply r = Call("POST", "/api/v1/faqs/import", body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["imported"], 1);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["line"], 2);
  auto m = Match("發票怎麼開");
  ASSERT_FALSE(m["matches"].empty());
  EXPECT_EQ(m["matches"][0]["faq_id"], "inv");
}

}  // namespace
}  // namespace kefu::testing
