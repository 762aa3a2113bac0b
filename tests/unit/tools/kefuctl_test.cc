#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/api_tokens.h"
#include "core/clock.h"
#include "storage/database.h"
#include "tests/support/temp_dir.h"
#include "tools/command.h"

namespace kefu::tools {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int code;
  std::string out;
  std::string err;
  // The last non-empty line of out.
  std::string LastLine() const {
    std::istringstream in(out);
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
    }
    return last;
  }
};

class KefuctlTest : public ::testing::Test {
 protected:
  KefuctlTest() {
    config_ = dir_.File("kefud.toml");
    std::ofstream(config_) << "[storage]\ndata_dir = \"" << dir_.File("data") << "\"\n";
  }

  CliRun Kefuctl(std::vector<std::string> args) {
    std::vector<std::string> all = {"kefuctl", "--config", config_};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const std::string& a : all)
      argv.push_back(a.c_str());
    std::ostringstream out, err;
    int code = RunKefuctl(static_cast<int>(argv.size()), argv.data(), out, err, clock_);
    return {code, out.str(), err.str()};
  }

  std::unique_ptr<storage::Database> OpenDb(const std::string& path) {
    storage::DatabaseOptions options;
    options.path = path;
    options.read_only = true;
    auto db = storage::Database::Open(options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  testing::TempDir dir_;
  std::string config_;
  FakeClock clock_;
};

TEST_F(KefuctlTest, TokenCreatePrintsAWorkingTokenAloneOnTheLastLine) {
  CliRun run = Kefuctl({"token", "create", "--role", "admin", "--name", "ops"});
  ASSERT_EQ(run.code, 0) << run.err;
  std::string token = run.LastLine();
  EXPECT_TRUE(token.starts_with("kefu_1_")) << token;
  EXPECT_EQ(token.find(' '), std::string::npos);

  auto db = OpenDb(dir_.File("data") + "/kefu.db");
  ASSERT_NE(db, nullptr);
  auto verified = app::VerifyApiToken(*db, clock_, token);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->role, "admin");
  EXPECT_EQ(verified->name, "ops");
  EXPECT_FALSE(app::VerifyApiToken(*db, clock_, token.substr(0, token.size() - 1) + "0").ok() &&
               token.back() != '0');
}

TEST_F(KefuctlTest, TokenListShowsTokensWithoutSecretsAsJson) {
  ASSERT_EQ(Kefuctl({"token", "create", "--role", "agent", "--name", "a"}).code, 0);
  CliRun created = Kefuctl({"token", "create", "--role", "supervisor"});
  CliRun run = Kefuctl({"--json", "token", "list"});
  ASSERT_EQ(run.code, 0) << run.err;
  nlohmann::json list = nlohmann::json::parse(run.out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["role"], "agent");
  EXPECT_EQ(list[1]["role"], "supervisor");
  EXPECT_EQ(list[1]["revoked"], false);
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr(created.LastLine().substr(8))));
}

TEST_F(KefuctlTest, RevokedTokenNoLongerVerifies) {
  std::string token = Kefuctl({"token", "create", "--role", "agent"}).LastLine();
  CliRun revoke = Kefuctl({"token", "revoke", "1"});
  ASSERT_EQ(revoke.code, 0) << revoke.err;
  auto db = OpenDb(dir_.File("data") + "/kefu.db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(app::VerifyApiToken(*db, clock_, token).status().code(), StatusCode::kUnauthenticated);

  CliRun again = Kefuctl({"token", "revoke", "1"});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("already revoked"));
  CliRun unknown = Kefuctl({"token", "revoke", "99"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("token 99 not found"));
}

TEST_F(KefuctlTest, BadRoleAndBadFlagsExitTwo) {
  CliRun role = Kefuctl({"token", "create", "--role", "root"});
  EXPECT_EQ(role.code, 2);
  EXPECT_THAT(role.err, HasSubstr("--role must be admin, supervisor or agent"));
  EXPECT_EQ(Kefuctl({"token", "create"}).code, 2) << "--role is required";
  EXPECT_EQ(Kefuctl({"nosuchverb"}).code, 2);
  EXPECT_EQ(Kefuctl({}).code, 2);
}

TEST_F(KefuctlTest, BadConfigExitsTwoNamingEveryKey) {
  CliRun run =
      Kefuctl({"--set", "storage.read_connections=0", "--set", "storage.bogus=1", "token", "list"});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("config: storage.read_connections: must be between 1 and 64"));
  EXPECT_THAT(run.err, HasSubstr("config: storage.bogus: unknown key"));
}

TEST_F(KefuctlTest, BackupCopiesTheDatabaseWithItsTokens) {
  ASSERT_EQ(Kefuctl({"token", "create", "--role", "admin"}).code, 0);
  std::string copy = dir_.File("backup.db");
  CliRun run = Kefuctl({"backup", copy});
  ASSERT_EQ(run.code, 0) << run.err;
  auto db = OpenDb(copy);
  ASSERT_NE(db, nullptr);
  auto tokens = app::ListApiTokens(*db);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ(tokens->size(), 1u);
}

TEST_F(KefuctlTest, BackupWithoutADatabaseFailsWithExitOne) {
  CliRun run = Kefuctl({"backup", dir_.File("out.db")});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.err, HasSubstr("kefuctl: "));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("out.db")));
}

}  // namespace
}  // namespace kefu::tools
