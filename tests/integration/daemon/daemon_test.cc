// Integration tests of the real kefud and kefuctl binaries on a free loopback port with a temp
// data dir.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "storage/database.h"
#include "tests/integration/daemon/process.h"
#include "tests/support/temp_dir.h"

namespace kefu::testing {
namespace {

using std::chrono::milliseconds;

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() {
    port_ = FreePort();
    config_ = dir_.File("kefud.toml");
    WriteConfig("");
  }

  // The test config: a free port, the temp data dir, plus `extra` TOML lines.
  void WriteConfig(const std::string& extra) {
    std::ofstream(config_) << "[server]\nlisten = \"127.0.0.1:" << port_ << "\"\n"
                           << "[storage]\ndata_dir = \"" << dir_.File("data") << "\"\n"
                           << "[daemon]\ndrain_timeout = \"5s\"\n"
                           << extra;
  }

  // Starts kefud and waits until /healthz answers 200; returns exec -> 200 time.
  milliseconds StartKefud(const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> argv = {KEFUD_PATH, "--config", config_};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    auto start = std::chrono::steady_clock::now();
    kefud_ = std::make_unique<ChildProcess>(argv, dir_.File("kefud.out"), dir_.File("kefud.err"));
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
      int fd = ConnectLoopback(port_);
      if (fd >= 0) {
        close(fd);
        if (HttpCall(port_, "GET", "/healthz").status == 200) break;
      }
      if (kefud_->Wait(milliseconds(0)).has_value()) break;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  }

  CommandResult Kefuctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {KEFUCTL_PATH, "--config", config_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, dir_.path().string());
  }

  std::string CreateToken(const std::string& role) {
    CommandResult r = Kefuctl({"token", "create", "--role", role, "--name", "it"});
    EXPECT_EQ(r.code, 0) << r.err;
    return LastNonEmptyLine(r.out);
  }

  std::string KefudStderr() { return ReadWholeFile(dir_.File("kefud.err")); }

  TempDir dir_;
  int port_;
  std::string config_;
  std::unique_ptr<ChildProcess> kefud_;
};

TEST_F(DaemonTest, HealthzAnswersWithinOneSecondOfExec) {
  milliseconds cold = StartKefud();
  std::printf("[ cold start ] exec -> /healthz 200 on an empty database: %lld ms\n",
              static_cast<long long>(cold.count()));
  EXPECT_LT(cold.count(), 1000);
  HttpReply health = HttpCall(port_, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  HttpReply ready = HttpCall(port_, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;

  kefud_->Signal(SIGTERM);
  EXPECT_EQ(kefud_->Wait(std::chrono::seconds(10)), 0) << KefudStderr();

  // A warm start (database exists, migrations already applied).
  milliseconds warm = StartKefud();
  std::printf("[ warm start ] exec -> /healthz 200 on an existing database: %lld ms\n",
              static_cast<long long>(warm.count()));
  EXPECT_LT(warm.count(), 1000);
}

TEST_F(DaemonTest, MetricsParseAsPrometheusText) {
  StartKefud();
  ASSERT_EQ(HttpCall(port_, "GET", "/healthz").status, 200);
  HttpReply metrics = HttpCall(port_, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers.find("text/plain"), std::string::npos) << metrics.headers;

  const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  const std::regex type(
      R"(^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$)");
  const std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+]?([0-9.eE+-]+|Inf|NaN)( [0-9]+)?$)");
  std::istringstream in(metrics.body);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    bool ok = std::regex_match(line, help) || std::regex_match(line, type) ||
              std::regex_match(line, sample);
    EXPECT_TRUE(ok) << "not Prometheus text: " << line;
    if (line[0] != '#') ++samples;
  }
  EXPECT_GT(samples, 5);
  EXPECT_NE(metrics.body.find("kefu_build_info{"), std::string::npos);
  EXPECT_NE(metrics.body.find("kefu_http_requests_total{"), std::string::npos);
  EXPECT_NE(metrics.body.find("kefu_storage_commit_seconds"), std::string::npos);
}

TEST_F(DaemonTest, ApiNeedsABearerTokenMadeByKefuctl) {
  StartKefud();
  HttpReply none = HttpCall(port_, "GET", "/api/v1/whoami");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.find(R"("code":"unauthenticated")"), std::string::npos) << none.body;
  HttpReply wrong = HttpCall(port_, "GET", "/api/v1/whoami",
                             "Authorization: Bearer kefu_1_" + std::string(64, 'a') + "\r\n");
  EXPECT_EQ(wrong.status, 401);

  // Created by the real kefuctl while kefud runs: accepted at once.
  std::string token = CreateToken("admin");
  HttpReply me =
      HttpCall(port_, "GET", "/api/v1/whoami", "Authorization: Bearer " + token + "\r\n");
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_NE(me.body.find(R"("role":"admin")"), std::string::npos) << me.body;

  std::string agent = CreateToken("agent");
  HttpReply forbidden =
      HttpCall(port_, "GET", "/api/v1/tokens", "Authorization: Bearer " + agent + "\r\n");
  EXPECT_EQ(forbidden.status, 403);
  HttpReply list =
      HttpCall(port_, "GET", "/api/v1/tokens", "Authorization: Bearer " + token + "\r\n");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(token.substr(7)), std::string::npos) << "never the secret";
}

TEST_F(DaemonTest, BadConfigExitsTwoNamingEachKey) {
  std::ofstream bad(dir_.File("bad.toml"));
  bad << "[server]\nthreads = 0\nlisten = \"127.0.0.1:" << port_ << "\"\nbogus = true\n";
  bad.close();
  CommandResult r = RunCommand({KEFUD_PATH, "--config", dir_.File("bad.toml")}, dir_.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("config: server.threads: must be between 1 and 64, got 0"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("config: server.bogus: unknown key"), std::string::npos) << r.err;

  CommandResult check =
      RunCommand({KEFUD_PATH, "--check-config", "--config", dir_.File("bad.toml")}, dir_.path());
  EXPECT_EQ(check.code, 2);
  CommandResult flags = RunCommand({KEFUD_PATH, "--no-such-flag"}, dir_.path());
  EXPECT_EQ(flags.code, 2);
  CommandResult set = RunCommand({KEFUD_PATH, "--config", dir_.File("bad.toml"), "--set",
                                  "server.threads=4", "--set", "server.bogus=1"},
                                 dir_.path());
  EXPECT_EQ(set.code, 2);
  EXPECT_EQ(set.err.find("server.threads"), std::string::npos) << "--set fixed it: " << set.err;
}

TEST_F(DaemonTest, ExampleConfigPassesCheckConfig) {
  CommandResult r = RunCommand({KEFUD_PATH, "--check-config", "--config",
                                std::string(KEFU_SOURCE_DIR) + "/deploy/kefud.example.toml"},
                               dir_.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("listen 127.0.0.1:8080"), std::string::npos) << r.out;
}

TEST_F(DaemonTest, PortInUseExitsOneWithAClearMessage) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  CommandResult r = RunCommand({KEFUD_PATH, "--config", config_}, dir_.path());
  close(fd);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("server.listen"), std::string::npos) << r.err;
}

TEST_F(DaemonTest, UnusableDataDirExitsOne) {
  std::ofstream(dir_.File("data")) << "a file, not a directory";
  CommandResult r = RunCommand({KEFUD_PATH, "--config", config_}, dir_.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("kefud: cannot start:"), std::string::npos) << r.err;
}

TEST_F(DaemonTest, SigtermDuringASlowRequestLetsItFinishAndExitsZero) {
  StartKefud();
  std::string token = CreateToken("agent");
  int fd = ConnectLoopback(port_);
  ASSERT_GE(fd, 0);
  std::string body = R"({"hello":"drain"})";
  ASSERT_TRUE(SendAll(fd, "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" +
                              body.substr(0, body.size() / 2)));
  // Give the server time to read the head, so the request is in flight when the signal lands.
  std::this_thread::sleep_for(milliseconds(200));
  kefud_->Signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(kefud_->running()) << "kefud must wait for the in-flight request";
  ASSERT_TRUE(SendAll(fd, body.substr(body.size() / 2)));
  HttpReply reply = ParseReply(ReadUntilClose(fd, std::chrono::seconds(5)));
  close(fd);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, body);
  EXPECT_EQ(kefud_->Wait(std::chrono::seconds(10)), 0) << KefudStderr();
  // New connections are refused once it stopped.
  EXPECT_LT(ConnectLoopback(port_), 0);
}

TEST_F(DaemonTest, KefuctlBackupWhileKefudRunsMakesAnOpenableCopyWithTokens) {
  StartKefud();
  CreateToken("admin");
  CreateToken("agent");
  std::string copy = dir_.File("backup.db");
  CommandResult r = Kefuctl({"backup", copy});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(HttpCall(port_, "GET", "/healthz").status, 200) << "kefud keeps serving";

  storage::DatabaseOptions options;
  options.path = copy;
  options.read_only = true;
  auto db = storage::Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto count = (*db)->Prepare("SELECT count(*) FROM api_tokens");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  ASSERT_TRUE((*count)->Step().value_or(false));
  EXPECT_EQ((*count)->ColumnInt64(0), 2);

  kefud_->Signal(SIGTERM);
  EXPECT_EQ(kefud_->Wait(std::chrono::seconds(10)), 0);
}

// ---- web console ----

class ConsoleTest : public DaemonTest {
 protected:
  // Creates a console user through kefuctl (password from a file, as an operator would).
  void AddUser(const std::string& username, const std::string& role, const std::string& password) {
    std::string file = dir_.File(username + ".pw");
    std::ofstream(file) << password << "\n";
    CommandResult r = Kefuctl({"user", "add", username, "--role", role, "--display-name",
                               "客服" + username, "--password-file", file});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  HttpReply Login(const std::string& username, const std::string& password) {
    nlohmann::json body = {{"username", username}, {"password", password}};
    return HttpCall(port_, "POST", "/api/v1/session", "Content-Type: application/json\r\n",
                    body.dump());
  }

  static std::string Bearer(const std::string& token) {
    return "Authorization: Bearer " + token + "\r\n";
  }
};

TEST_F(ConsoleTest, ServesTheConsoleWithAStrictContentSecurityPolicy) {
  StartKefud();
  HttpReply root = HttpCall(port_, "GET", "/");
  EXPECT_EQ(root.status, 302);
  EXPECT_NE(root.headers.find("Location: /console/"), std::string::npos) << root.headers;

  HttpReply page = HttpCall(port_, "GET", "/console/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.headers.find("text/html"), std::string::npos);
  EXPECT_NE(page.headers.find("Content-Security-Policy: default-src 'none'; script-src 'self'"),
            std::string::npos)
      << page.headers;
  EXPECT_NE(page.headers.find("X-Content-Type-Options: nosniff"), std::string::npos);
  EXPECT_NE(page.body.find("kefu 客服工作台"), std::string::npos);
  EXPECT_NE(page.body.find("<script src=\"console.js\""), std::string::npos);

  HttpReply script = HttpCall(port_, "GET", "/console/console.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_NE(script.headers.find("text/javascript"), std::string::npos);
  // The console never hands customer text to the HTML parser.
  EXPECT_EQ(script.body.find("innerHTML"), std::string::npos);
  EXPECT_EQ(HttpCall(port_, "GET", "/console/console.css").status, 200);
  EXPECT_EQ(HttpCall(port_, "GET", "/console/..%2Fkefud.toml").status, 404);
  EXPECT_EQ(HttpCall(port_, "GET", "/console/secret.db").status, 404);
}

TEST_F(ConsoleTest, LoginGivesASessionWithTheUsersRoleAndLogoutEndsIt) {
  AddUser("alice", "agent", "correct horse");
  StartKefud();

  HttpReply wrong = Login("alice", "wrong password");
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_NE(wrong.body.find("invalid username or password"), std::string::npos);
  HttpReply unknown = Login("nobody", "whatever1");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, wrong.body) << "an unknown user is indistinguishable from a bad password";

  HttpReply ok = Login("alice", "correct horse");
  ASSERT_EQ(ok.status, 201) << ok.body;
  auto session = nlohmann::json::parse(ok.body);
  std::string token = session["token"];
  EXPECT_EQ(session["user"]["role"], "agent");
  EXPECT_EQ(session["user"]["display_name"], "客服alice");
  EXPECT_EQ(session["user"].count("password_hash"), 0u);

  HttpReply who = HttpCall(port_, "GET", "/api/v1/whoami", Bearer(token));
  ASSERT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(nlohmann::json::parse(who.body)["subject"], "user:alice");
  // An agent session has an agent's rights only.
  EXPECT_EQ(HttpCall(port_, "GET", "/api/v1/tokens", Bearer(token)).status, 403);
  HttpReply users = HttpCall(port_, "GET", "/api/v1/users", Bearer(token));
  ASSERT_EQ(users.status, 200);
  EXPECT_EQ(users.body.find("password"), std::string::npos) << users.body;

  EXPECT_EQ(HttpCall(port_, "DELETE", "/api/v1/session", Bearer(token)).status, 200);
  EXPECT_EQ(HttpCall(port_, "GET", "/api/v1/whoami", Bearer(token)).status, 401)
      << "a logged-out session stops working at once";
}

TEST_F(ConsoleTest, RepeatedWrongPasswordsLockTheUsernameOut) {
  AddUser("bob", "supervisor", "s3cret-pass");
  StartKefud();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(Login("bob", "guess" + std::to_string(i)).status, 401);
  HttpReply locked = Login("bob", "s3cret-pass");
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_NE(locked.body.find("too many failed logins"), std::string::npos);
  HttpReply metrics = HttpCall(port_, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("kefu_app_logins_total{result=\"throttled\"} 1"), std::string::npos);
}

TEST_F(ConsoleTest, BadLoginBodiesAreRejectedNamingTheField) {
  StartKefud();
  HttpReply missing = HttpCall(port_, "POST", "/api/v1/session",
                               "Content-Type: application/json\r\n", R"({"username":"a"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("password: required string"), std::string::npos) << missing.body;
  HttpReply garbage =
      HttpCall(port_, "POST", "/api/v1/session", "Content-Type: application/json\r\n", "{not json");
  EXPECT_EQ(garbage.status, 400);
}

TEST_F(ConsoleTest, DisablingAUserEndsTheirSessions) {
  AddUser("carol", "agent", "password-carol");
  WriteConfig("[auth]\ntoken_cache_ttl = \"0s\"\n");
  StartKefud();
  HttpReply ok = Login("carol", "password-carol");
  ASSERT_EQ(ok.status, 201) << ok.body;
  std::string token = nlohmann::json::parse(ok.body)["token"];
  ASSERT_EQ(HttpCall(port_, "GET", "/api/v1/whoami", Bearer(token)).status, 200);
  CommandResult r = Kefuctl({"user", "disable", "carol"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(HttpCall(port_, "GET", "/api/v1/whoami", Bearer(token)).status, 401);
  EXPECT_EQ(Login("carol", "password-carol").status, 401);
}

TEST_F(ConsoleTest, KefuctlUserRejectsBadInputNamingTheField) {
  std::string short_pw = dir_.File("short.pw");
  std::ofstream(short_pw) << "short\n";
  CommandResult r =
      Kefuctl({"user", "add", "dave", "--role", "agent", "--password-file", short_pw});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("password: must be 8-1024 bytes"), std::string::npos) << r.err;
  std::string good_pw = dir_.File("good.pw");
  std::ofstream(good_pw) << "long-enough\n";
  r = Kefuctl({"user", "add", "da ve", "--role", "agent", "--password-file", good_pw});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("username:"), std::string::npos) << r.err;
  r = Kefuctl({"user", "add", "dave", "--role", "root", "--password-file", good_pw});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("role:"), std::string::npos) << r.err;
  ASSERT_EQ(Kefuctl({"user", "add", "dave", "--role", "agent", "--password-file", good_pw}).code,
            0);
  r = Kefuctl({"user", "add", "dave", "--role", "agent", "--password-file", good_pw});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kefu::testing
