#include "app/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "app/config_reader.h"
#include "tests/support/temp_dir.h"

namespace kefu::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Config, EmptyDocumentGivesDefaults) {
  ConfigLoad load = LoadConfigFromString("");
  ASSERT_TRUE(load.ok());
  EXPECT_EQ(load.config.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(load.config.server.threads, 2);
  EXPECT_EQ(load.config.storage.data_dir, "./data");
  EXPECT_EQ(load.config.storage.synchronous, storage::DatabaseOptions::Synchronous::kFull);
  EXPECT_EQ(load.config.log.level, "info");
  EXPECT_EQ(load.config.daemon.drain_timeout, std::chrono::seconds(10));
}

TEST(Config, ReadsTypedValuesOfEverySection) {
  ConfigLoad load = LoadConfigFromString(R"(
[server]
listen = "0.0.0.0:9000"
threads = 8
body_limit = "2MiB"
header_limit = 8192
read_timeout = "1m30s"
[storage]
data_dir = "/var/lib/kefu"
synchronous = "normal"
busy_timeout = "250ms"
read_connections = 2
[log]
level = "debug"
[daemon]
drain_timeout = "3s"
)");
  ASSERT_THAT(load.errors, IsEmpty());
  const Config& c = load.config;
  EXPECT_EQ(c.server.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.server.threads, 8);
  EXPECT_EQ(c.server.body_limit, 2u * 1024 * 1024);
  EXPECT_EQ(c.server.header_limit, 8192u);
  EXPECT_EQ(c.server.read_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c.storage.DatabasePath(), "/var/lib/kefu/kefu.db");
  EXPECT_EQ(c.storage.synchronous, storage::DatabaseOptions::Synchronous::kNormal);
  EXPECT_EQ(c.storage.busy_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.storage.read_connections, 2);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.daemon.drain_timeout, std::chrono::seconds(3));
}

TEST(Config, UnknownKeyIsNamedWithASuggestion) {
  ConfigLoad load = LoadConfigFromString("[server]\nthread = 4\n");
  EXPECT_THAT(load.errors,
              ElementsAre("config: server.thread: unknown key (did you mean threads?)"));
}

TEST(Config, UnknownSectionIsReported) {
  ConfigLoad load = LoadConfigFromString("[nosuch]\nx = 1\n");
  EXPECT_THAT(load.errors, ElementsAre("config: nosuch: unknown key"));
}

TEST(Config, WrongTypeNamesKeyAndActualValue) {
  ConfigLoad load = LoadConfigFromString("[server]\nthreads = \"four\"\n");
  EXPECT_THAT(load.errors,
              ElementsAre("config: server.threads: expected an integer, got string \"four\""));
}

TEST(Config, OutOfRangeNamesBoundsAndValue) {
  ConfigLoad load = LoadConfigFromString("[server]\nthreads = 0\n");
  EXPECT_THAT(load.errors, ElementsAre("config: server.threads: must be between 1 and 64, got 0"));
  EXPECT_EQ(load.config.server.threads, 2) << "a bad value keeps the default";
}

TEST(Config, BadEnumAndDurationAreReported) {
  ConfigLoad load = LoadConfigFromString(
      "[storage]\nsynchronous = \"sometimes\"\n[daemon]\ndrain_timeout = \"10 parsecs\"\n");
  ASSERT_EQ(load.errors.size(), 2u);
  EXPECT_THAT(load.errors[0], HasSubstr("config: storage.synchronous: must be one of off, "
                                        "normal, full, got string \"sometimes\""));
  EXPECT_THAT(load.errors[1], HasSubstr("config: daemon.drain_timeout: expected a duration"));
}

TEST(Config, AllErrorsAreReportedTogetherOneLineEach) {
  ConfigLoad load = LoadConfigFromString(R"(
[server]
threads = 0
body_limit = true
bogus = 1
[storage]
read_connections = 1000
[log]
level = "loud"
)");
  EXPECT_EQ(load.errors.size(), 5u);
  std::string all;
  for (const std::string& e : load.errors) {
    EXPECT_EQ(e.find('\n'), std::string::npos);
    EXPECT_TRUE(e.starts_with("config: ")) << e;
    all += e + "\n";
  }
  EXPECT_THAT(all, HasSubstr("server.threads:"));
  EXPECT_THAT(all, HasSubstr("server.body_limit:"));
  EXPECT_THAT(all, HasSubstr("server.bogus: unknown key"));
  EXPECT_THAT(all, HasSubstr("storage.read_connections:"));
  EXPECT_THAT(all, HasSubstr("log.level:"));
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  ConfigLoad load = LoadConfigFromString("[server]\nthreads = = 3\n", {}, "kefud.toml");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_THAT(load.errors[0], HasSubstr("config: kefud.toml:2:"));
}

TEST(Config, MissingFileIsReported) {
  ConfigLoad load = LoadConfig({.path = "/nonexistent/kefud.toml", .overrides = {}});
  EXPECT_THAT(load.errors, ElementsAre("config: /nonexistent/kefud.toml: no such file"));
}

TEST(Config, SetOverridesFileValuesAsTypedTomlValues) {
  ConfigLoad load = LoadConfigFromString("[server]\nthreads = 2\n",
                                         {"server.threads=4", "storage.data_dir=/tmp/x",
                                          "daemon.drain_timeout=\"2s\"", "log.level=warn"});
  ASSERT_THAT(load.errors, IsEmpty());
  EXPECT_EQ(load.config.server.threads, 4);
  EXPECT_EQ(load.config.storage.data_dir, "/tmp/x") << "unparsable TOML falls back to a string";
  EXPECT_EQ(load.config.daemon.drain_timeout, std::chrono::seconds(2));
  EXPECT_EQ(load.config.log.level, "warn");
}

TEST(Config, SetWithWrongTypeOrUnknownKeyIsReported) {
  ConfigLoad load = LoadConfigFromString("", {"server.threads=many", "server.nope=1", "novalue"});
  ASSERT_EQ(load.errors.size(), 3u);
  EXPECT_THAT(load.errors[0], HasSubstr("config: --set novalue: expected section.key=value"));
  EXPECT_THAT(load.errors[1],
              HasSubstr("config: server.threads: expected an integer, got string \"many\""));
  EXPECT_THAT(load.errors[2], HasSubstr("config: server.nope: unknown key"));
}

TEST(Config, SetIntoANonTableIsReported) {
  ConfigLoad load = LoadConfigFromString("[server]\nlisten = \"x:1\"\n", {"server.listen.x=1"});
  ASSERT_FALSE(load.errors.empty());
  EXPECT_THAT(load.errors[0], HasSubstr("server.listen is not a table"));
}

TEST(Config, ExampleConfigLoadsAndListsEveryKnownKey) {
  std::string path = std::string(KEFU_SOURCE_DIR) + "/deploy/kefud.example.toml";
  std::string text = ReadFile(path);
  ASSERT_FALSE(text.empty()) << path;
  ConfigLoad load = LoadConfigFromString(text, {}, path);
  EXPECT_THAT(load.errors, IsEmpty());

  // Every key some section reader asks for appears in the example (with its comment).
  toml::table doc = toml::parse(text);
  std::set<std::string> present;
  std::function<void(const toml::table&, const std::string&)> walk =
      [&](const toml::table& t, const std::string& prefix) {
        for (const auto& [k, v] : t) {
          std::string p =
              prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
          present.insert(p);
          if (const auto* sub = v.as_table()) walk(*sub, p);
          if (const auto* arr = v.as_array(); arr != nullptr && arr->is_array_of_tables()) {
            present.insert(p + "[]");
            for (const auto& e : *arr)
              walk(*e.as_table(), p + "[]");
          }
        }
      };
  walk(doc, "");
  for (const std::string& key : KnownConfigKeys(text)) {
    EXPECT_TRUE(present.count(key) == 1) << "deploy/kefud.example.toml lacks " << key;
  }
}

class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~EnvVar() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ResolveSecret, LiteralEnvAndFileValues) {
  testing::TempDir dir;
  std::string file = dir.File("secret");
  std::ofstream(file) << "from-file\n";
  EnvVar env("KEFU_TEST_SECRET", "from-env");

  EXPECT_EQ(ResolveSecret("plain").value(), "plain");
  EXPECT_EQ(ResolveSecret("env:KEFU_TEST_SECRET").value(), "from-env");
  EXPECT_EQ(ResolveSecret("file:" + file).value(), "from-file") << "one trailing newline stripped";
}

TEST(ResolveSecret, UnsetVariableAndUnreadableFileAreErrorsWithoutTheValue) {
  unsetenv("KEFU_TEST_UNSET");
  auto unset = ResolveSecret("env:KEFU_TEST_UNSET");
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(unset.status().message(), HasSubstr("KEFU_TEST_UNSET is not set"));

  auto missing = ResolveSecret("file:/nonexistent/secret");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/secret"));

  testing::TempDir dir;
  std::string empty = dir.File("empty");
  std::ofstream(empty).close();
  EXPECT_FALSE(ResolveSecret("file:" + empty).ok());
}

TEST(ResolveSecret, UnreadableFilePermissionIsReported) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  testing::TempDir dir;
  std::string file = dir.File("locked");
  std::ofstream(file) << "x";
  chmod(file.c_str(), 0);
  auto r = ResolveSecret("file:" + file);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Permission denied"));
}

// Secrets are read through ConfigSection::Secret; every bad secret is reported with its key.
TEST(ConfigReader, SecretErrorsNameTheKeyAndAreCollectedWithOthers) {
  testing::TempDir dir;
  std::string good = dir.File("good");
  std::ofstream(good) << "s3cret";
  EnvVar env("KEFU_TEST_SECRET2", "e");
  unsetenv("KEFU_TEST_UNSET2");
  toml::table doc =
      toml::parse("[[wecom.apps]]\nsecret = \"file:" + good +
                  "\"\ntoken = \"env:KEFU_TEST_SECRET2\"\n[[wecom.apps]]\nsecret = "
                  "\"file:/nonexistent/s\"\ntoken = \"env:KEFU_TEST_UNSET2\"\nextra = 1\n");
  ConfigReader reader(doc);
  std::vector<std::pair<std::string, std::string>> apps;
  for (const ConfigSection& app : reader.root().Table("wecom").TableArray("apps")) {
    std::string secret, token;
    app.Secret("secret", secret);
    app.Secret("token", token);
    apps.emplace_back(secret, token);
  }
  reader.Finish();
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].first, "s3cret");
  EXPECT_EQ(apps[0].second, "e");
  ASSERT_EQ(reader.errors().size(), 3u);
  EXPECT_THAT(reader.errors()[0], HasSubstr("config: wecom.apps[1].secret: cannot read secret "
                                            "file /nonexistent/s"));
  EXPECT_THAT(reader.errors()[1],
              HasSubstr("config: wecom.apps[1].token: environment variable KEFU_TEST_UNSET2"));
  EXPECT_EQ(reader.errors()[2], "config: wecom.apps[1].extra: unknown key");
  EXPECT_TRUE(reader.known_keys().count("wecom.apps[].secret"));
}

TEST(ConfigReader, LiteralSecretNeverAppearsInErrors) {
  toml::table doc = toml::parse("[a]\nsecret = 42\n");
  ConfigReader reader(doc);
  std::string secret;
  reader.root().Table("a").Secret("secret", secret);
  ASSERT_EQ(reader.errors().size(), 1u);
  EXPECT_THAT(reader.errors()[0], HasSubstr("config: a.secret: expected a string"));
  EXPECT_THAT(reader.errors()[0], ::testing::Not(HasSubstr("42")));
}

TEST(ParseDuration, AcceptsUnitsAndRejectsBareNumbers) {
  EXPECT_EQ(ParseDuration("500ms").value(), std::chrono::milliseconds(500));
  EXPECT_EQ(ParseDuration("1m30s").value(), std::chrono::seconds(90));
  EXPECT_EQ(ParseDuration("1.5s").value(), std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseDuration("2h").value(), std::chrono::hours(2));
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5 minutes").ok());
}

TEST(ParseByteSize, AcceptsBinaryUnits) {
  EXPECT_EQ(ParseByteSize("1024").value(), 1024);
  EXPECT_EQ(ParseByteSize("64KiB").value(), 64 * 1024);
  EXPECT_EQ(ParseByteSize("1MiB").value(), 1024 * 1024);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("1PiB").ok());
}

}  // namespace
}  // namespace kefu::app
