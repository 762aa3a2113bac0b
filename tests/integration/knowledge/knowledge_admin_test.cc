// The admin lexicon REST API and live refresh of the real kefud: dictionary/synonym changes reach
// the matcher at once, and changes made by kefuctl beside a running kefud reach it without a
// restart (the daemon polls the knowledge tables' generation).
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

class KnowledgeAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    config_ = dir_.File("kefud.toml");
    std::ofstream(config_) << "[server]\nlisten = \"127.0.0.1:" << port_ << "\"\n"
                           << "[storage]\ndata_dir = \"" << dir_.File("data") << "\"\n"
                           << "[knowledge]\nrefresh_interval_s = 0.2\n";
    admin_ = Token("admin");
    supervisor_ = Token("supervisor");
    ASSERT_FALSE(admin_.empty());
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

  std::string Token(const std::string& role) {
    CommandResult r = Kefuctl({"token", "create", "--role", role, "--name", "it-" + role});
    EXPECT_EQ(r.code, 0) << r.err;
    return LastNonEmptyLine(r.out);
  }

  CommandResult Kefuctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {KEFUCTL_PATH, "--config", config_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, dir_.path().string());
  }

  HttpReply Call(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& token = "") {
    return HttpCall(port_, method, path,
                    "Authorization: Bearer " + (token.empty() ? admin_ : token) +
                        "\r\nContent-Type: application/json\r\n",
                    body);
  }

  // The top FAQ id for `q`, or "" when nothing matches.
  std::string Top(const std::string& q) {
    HttpReply r = Call("GET", "/api/v1/faq-match?k=3&q=" + UrlEncode(q));
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || j["matches"].empty()) return "";
    return j["matches"][0]["faq_id"].get<std::string>();
  }

  // Polls faq-match until `q`'s top FAQ is `id` or the deadline passes.
  bool EventuallyTop(const std::string& q, const std::string& id,
                     std::chrono::seconds deadline = std::chrono::seconds(20)) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < deadline) {
      if (Top(q) == id) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  TempDir dir_;
  int port_ = 0;
  std::string config_, admin_, supervisor_;
  std::unique_ptr<ChildProcess> kefud_;
};

TEST_F(KnowledgeAdminTest, SynonymAddedOverRestIsUsedByTheNextMatch) {
  ASSERT_EQ(Call("POST", "/api/v1/faqs",
                 R"({"id": "close", "question": "怎么注销账户", "answer": "在设置里注销。"})")
                .status,
            201);
  EXPECT_EQ(Top("不想用了"), "");  // no shared character

  HttpReply added = Call("POST", "/api/v1/knowledge/synonyms",
                         R"({"variant": "不想用了", "canonical": "注销账户"})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(nlohmann::json::parse(added.body)["canonical"], "注销账户");
  EXPECT_EQ(Top("不想用了"), "close");  // at once: the response came after the rebuild

  HttpReply list = Call("GET", "/api/v1/knowledge/synonyms", "", supervisor_);
  ASSERT_EQ(list.status, 200) << list.body;
  auto synonyms = nlohmann::json::parse(list.body)["synonyms"];
  ASSERT_EQ(synonyms.size(), 1u);
  EXPECT_EQ(synonyms[0]["variant"], "不想用了");

  EXPECT_EQ(Call("DELETE", "/api/v1/knowledge/synonyms/" + UrlEncode("不想用了")).status, 204);
  EXPECT_EQ(Top("不想用了"), "");
  EXPECT_EQ(Call("DELETE", "/api/v1/knowledge/synonyms/" + UrlEncode("不想用了")).status, 404);
}

TEST_F(KnowledgeAdminTest, DictionaryEndpointsValidateAndNeedTheRightRole) {
  HttpReply added = Call("POST", "/api/v1/knowledge/dictionary", R"({"word": "餘額寶"})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(nlohmann::json::parse(added.body)["word"], "余额宝");  // normalised

  HttpReply list = Call("GET", "/api/v1/knowledge/dictionary", "", supervisor_);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(nlohmann::json::parse(list.body)["words"], nlohmann::json::array({"余额宝"}));

  // Supervisors read, only admins change.
  EXPECT_EQ(Call("POST", "/api/v1/knowledge/dictionary", R"({"word": "花呗"})", supervisor_).status,
            403);
  EXPECT_EQ(Call("DELETE", "/api/v1/knowledge/dictionary/x", "", supervisor_).status, 403);

  // Bad bodies name the field.
  struct Bad {
    const char* path;
    const char* body;
    const char* field;
  };
  for (const Bad& b : {Bad{"/api/v1/knowledge/dictionary", R"({})", "word"},
                       Bad{"/api/v1/knowledge/dictionary", R"({"word": 3})", "word"},
                       Bad{"/api/v1/knowledge/dictionary", R"({"word": "花"})", "word"},
                       Bad{"/api/v1/knowledge/dictionary", R"({"word": "  "})", "word"},
                       Bad{"/api/v1/knowledge/dictionary", "not json", "request body"},
                       Bad{"/api/v1/knowledge/synonyms", R"({"canonical": "退款"})", "variant"},
                       Bad{"/api/v1/knowledge/synonyms", R"({"variant": "退钱"})", "canonical"},
                       Bad{"/api/v1/knowledge/synonyms",
                           R"({"variant": "退款", "canonical": "退款"})", "synonym"}}) {
    HttpReply r = Call("POST", b.path, b.body);
    EXPECT_EQ(r.status, 400) << b.body << " " << r.body;
    EXPECT_NE(r.body.find(b.field), std::string::npos) << b.body << " " << r.body;
  }

  EXPECT_EQ(Call("DELETE", "/api/v1/knowledge/dictionary/" + UrlEncode("余额宝")).status, 204);
  EXPECT_EQ(Call("DELETE", "/api/v1/knowledge/dictionary/" + UrlEncode("余额宝")).status, 404);
}

TEST_F(KnowledgeAdminTest, KefuctlChangesBesideARunningKefudReachTheLiveMatcher) {
  std::ofstream(dir_.File("faqs.jsonl"))
      << R"({"id": "invoice", "question": "怎么开具电子发票", "answer": "在订单详情里申请。"})"
      << "\n"
      << R"({"id": "close", "question": "怎么注销账户", "answer": "在设置里注销。"})"
      << "\n";
  EXPECT_EQ(Top("怎么开具电子发票"), "");
  CommandResult imported = Kefuctl({"faq", "import", dir_.File("faqs.jsonl")});
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_TRUE(EventuallyTop("怎么开具电子发票", "invoice"));
  EXPECT_TRUE(EventuallyTop("怎么注销账户", "close"));

  CommandResult synonym = Kefuctl({"faq", "synonym", "add", "不想用了", "注销账户"});
  ASSERT_EQ(synonym.code, 0) << synonym.err;
  EXPECT_TRUE(EventuallyTop("不想用了", "close"));
  CommandResult listed = Kefuctl({"--json", "faq", "synonym", "list"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("注销账户"), std::string::npos) << listed.out;

  CommandResult removed = Kefuctl({"faq", "synonym", "remove", "不想用了"});
  ASSERT_EQ(removed.code, 0) << removed.err;
  EXPECT_TRUE(EventuallyTop("不想用了", ""));
  EXPECT_EQ(Kefuctl({"faq", "synonym", "remove", "不想用了"}).code, 1);

  CommandResult word = Kefuctl({"faq", "dict", "add", "电子发票"});
  ASSERT_EQ(word.code, 0) << word.err;
  CommandResult words = Kefuctl({"--json", "faq", "dict", "list"});
  ASSERT_EQ(words.code, 0) << words.err;
  EXPECT_NE(words.out.find("电子发票"), std::string::npos) << words.out;
  EXPECT_EQ(Kefuctl({"faq", "dict", "add", "票"}).code, 2);  // too short: usage error
}

}  // namespace
}  // namespace kefu::testing
