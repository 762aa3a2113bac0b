// A kefud built from the same Daemon with the app and channels modules plus a minimal "echo bot"
// that consumes the durable inbound queue exactly like the conversation engine does: in one
// writer job it enqueues a reply in the outbox and marks the inbound row processed.
//
//   kefu_channels_testd <data_dir> <wecom_api_base> <port_file> [noecho] [sync=normal|full]
//
// "noecho" leaves the echo consumer out (tests/bench/channels measures the inbound path alone).
// "sync=" sets PRAGMA synchronous of the write connection (default normal; kefud's default is
// full).
//
// Serves until SIGTERM/SIGINT (or is killed with -9 by the crash test).
#include <csignal>
#include <fstream>
#include <iostream>
#include <string_view>
#include <thread>

#include "app/app_module.h"
#include "app/channels_api.h"
#include "app/daemon.h"
#include "channels/common/inbound.h"
#include "channels/common/outbox.h"

namespace {

std::atomic<bool> g_stop{false};

class EchoBotModule final : public kefu::app::Module {
 public:
  std::string_view name() const override { return "echo_bot"; }
  kefu::Status Init(kefu::app::Services& s) override {
    services_ = &s;
    return kefu::Status::Ok();
  }
  kefu::Status Start() override {
    thread_ = std::thread([this] {
      while (!stop_) {
        Round();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    return kefu::Status::Ok();
  }
  void Stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Round() {
    auto rows = services_->reads.Read([](kefu::storage::Database& db) {
      return kefu::channels::LoadUnprocessedInbound(db, 100);
    });
    if (!rows.ok()) return;
    for (const auto& r : *rows) {
      const kefu::Clock& clock = services_->clock;
      (void)services_->writer.Run([&](kefu::storage::Database& db) -> kefu::Status {
        kefu::channels::OutboundMessage m;
        m.channel = r.message.channel;
        m.app = r.message.app;
        m.destination = r.message.sender;
        m.content = "echo: " + r.message.text;
        m.reply_context = r.message.reply_context;
        m.idempotency_key = "echo:" + std::to_string(r.id);
        m.inbound_id = r.id;
        KEFU_RETURN_IF_ERROR(kefu::channels::EnqueueOutbound(db, m, clock.NowUnixMs()).status());
        return kefu::channels::MarkInboundProcessed(db, r.id, clock.NowUnixMs());
      });
    }
  }
  kefu::app::Services* services_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  using Synchronous = kefu::storage::DatabaseOptions::Synchronous;
  bool echo = true;
  Synchronous synchronous = Synchronous::kNormal;
  bool usage = argc < 4;
  for (int i = 4; i < argc && !usage; ++i) {
    std::string_view arg = argv[i];
    if (arg == "noecho") {
      echo = false;
    } else if (arg == "sync=normal") {
      synchronous = Synchronous::kNormal;
    } else if (arg == "sync=full") {
      synchronous = Synchronous::kFull;
    } else {
      usage = true;
    }
  }
  if (usage) {
    std::cerr << "usage: kefu_channels_testd <data_dir> <wecom_api_base> <port_file> [noecho] "
                 "[sync=normal|full]\n";
    return 2;
  }
  kefu::app::Config config;
  config.server.listen = "127.0.0.1:0";
  config.storage.data_dir = argv[1];
  config.storage.synchronous = synchronous;
  kefu::app::ChannelsConfig channels;
  kefu::channels::wecom::WecomAppConfig app;
  app.name = "main";
  app.corp_id = "wx5823bf96d3bd56c7";
  app.agent_id = 1000002;
  app.token = "QDG6eK";
  app.encoding_aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
  app.secret = "app-secret";
  app.api_base = argv[2];
  app.max_timestamp_skew_s = 0;
  channels.wecom_apps.push_back(app);

  std::vector<std::unique_ptr<kefu::app::Module>> modules;
  modules.push_back(kefu::app::MakeAppModule());
  modules.push_back(kefu::app::MakeChannelsModule(channels));
  if (echo) modules.push_back(std::make_unique<EchoBotModule>());
  kefu::SystemClock clock;
  auto daemon = kefu::app::Daemon::Create(config, std::move(modules), clock);
  if (!daemon.ok()) {
    std::cerr << daemon.status().ToString() << "\n";
    return 1;
  }
  kefu::Status s = (*daemon)->Start();
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  {
    std::ofstream out(std::string(argv[3]) + ".tmp");
    out << (*daemon)->port() << "\n";
  }
  std::rename((std::string(argv[3]) + ".tmp").c_str(), argv[3]);
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  while (!g_stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*daemon)->Shutdown();
  return 0;
}
