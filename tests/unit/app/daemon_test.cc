#include "app/daemon.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "app/app_module.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace kefu::app {
namespace {

using ::testing::ElementsAre;

// Raw "GET path" on 127.0.0.1:port with Connection: close; returns the whole response.
std::string Get(uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

// A module recording the order of its hooks into a shared log.
class RecordingModule final : public Module {
 public:
  RecordingModule(std::string name, std::vector<std::string>& log) : name_(name), log_(log) {}
  std::string_view name() const override { return name_; }
  void ConfigureDatabase(storage::DatabaseOptions& options) const override {
    log_.push_back(name_ + ".configure");
    options.connection_initializers.push_back([log = &log_, n = name_](sqlite3*) {
      log->push_back(n + ".connection");
      return Status::Ok();
    });
  }
  std::vector<storage::Migration> Migrations() const override {
    return {{1, "t", "CREATE TABLE " + name_ + "_t (x INTEGER)"}};
  }
  Status Init(Services& services) override {
    log_.push_back(name_ + ".init");
    if (name_ == "first") services.registry.Provide<std::string>(name_);
    if (name_ == "second") {
      std::string* provided = services.registry.Get<std::string>();
      log_.push_back("second.got=" + (provided ? *provided : std::string("null")));
    }
    services.router.AddSync("GET", "/" + name_, [](HttpRequest&) {
      return HttpResponse::Json(200, R"({"module":true})");
    });
    return Status::Ok();
  }
  Status Start() override {
    log_.push_back(name_ + ".start");
    return Status::Ok();
  }
  void Stop() override { log_.push_back(name_ + ".stop"); }

 private:
  std::string name_;
  std::vector<std::string>& log_;
};

Config TestConfig(const testing::TempDir& dir) {
  Config config;
  config.server.listen = "127.0.0.1:0";
  config.storage.data_dir = dir.File("data");
  config.storage.read_connections = 1;
  config.storage.worker_threads = 1;
  return config;
}

TEST(Daemon, ModulesPlugInThroughTheirHooksInOrder) {
  testing::TempDir dir;
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(MakeAppModule());
  modules.push_back(std::make_unique<RecordingModule>("first", log));
  modules.push_back(std::make_unique<RecordingModule>("second", log));
  FakeClock clock;
  auto daemon = Daemon::Create(TestConfig(dir), std::move(modules), clock);
  ASSERT_TRUE(daemon.ok()) << daemon.status().ToString();
  ASSERT_TRUE((*daemon)->Start().ok());
  uint16_t port = (*daemon)->port();
  ASSERT_NE(port, 0);

  EXPECT_THAT(Get(port, "/second"), ::testing::HasSubstr(R"({"module":true})"));
  EXPECT_THAT(Get(port, "/readyz"), ::testing::HasSubstr(R"({"status":"ready"})"));
  (*daemon)->Shutdown();

  // Connection initializers ran once per connection (writer, WAL checkpointer, 1 reader) for each
  // module.
  std::vector<std::string> hooks;
  for (const std::string& e : log) {
    if (!e.ends_with(".connection")) hooks.push_back(e);
  }
  EXPECT_THAT(hooks, ElementsAre("first.configure", "second.configure", "first.init", "second.init",
                                 "second.got=first", "first.start", "second.start", "second.stop",
                                 "first.stop"));
  EXPECT_EQ(std::count(log.begin(), log.end(), "first.connection"), 3);

  storage::DatabaseOptions options;
  options.path = dir.File("data") + "/kefu.db";
  auto db = storage::Database::Open(options);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(storage::SchemaVersion(**db, "second").value(), 1);
  EXPECT_EQ(storage::SchemaVersion(**db, "app").value(), AppMigrations().back().version);
}

TEST(Daemon, RefusesADatabaseWithANewerSchema) {
  testing::TempDir dir;
  Config config = TestConfig(dir);
  {
    std::filesystem::create_directories(config.storage.data_dir);
    storage::DatabaseOptions options;
    options.path = config.storage.DatabasePath();
    auto db = storage::Database::Open(options);
    ASSERT_TRUE(db.ok());
    std::vector<storage::Migration> future = AppMigrations();
    future.push_back(
        {future.back().version + 1, "from the future", "CREATE TABLE future (x INTEGER)"});
    ASSERT_TRUE(storage::ApplyMigrations(**db, "app", future).ok());
  }
  FakeClock clock;
  auto daemon = Daemon::Create(config, MakeModules(config), clock);
  ASSERT_FALSE(daemon.ok());
  EXPECT_EQ(daemon.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(daemon.status().message(), ::testing::HasSubstr("app"));
}

TEST(Daemon, StopsListeningOnShutdown) {
  testing::TempDir dir;
  FakeClock clock;
  auto daemon = Daemon::Create(TestConfig(dir), MakeModules(TestConfig(dir)), clock);
  ASSERT_TRUE(daemon.ok());
  ASSERT_TRUE((*daemon)->Start().ok());
  uint16_t port = (*daemon)->port();
  EXPECT_THAT(Get(port, "/healthz"), ::testing::HasSubstr(R"({"status":"ok"})"));
  (*daemon)->Shutdown();
  EXPECT_EQ(Get(port, "/healthz"), "") << "closed after shutdown";
}

}  // namespace
}  // namespace kefu::app
