#include "app/channels_api.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "app/api_support.h"
#include "bot/engine_ports.h"
#include "channels/common/http_client.h"
#include "channels/common/inbound.h"
#include "channels/common/outbox.h"
#include "channels/dingtalk/dingtalk_callback.h"
#include "channels/dingtalk/dingtalk_sender.h"
#include "channels/dingtalk/stream_client.h"
#include "channels/wecom/kf_syncer.h"
#include "channels/wecom/wecom_api.h"
#include "channels/wecom/wecom_callback.h"
#include "channels/wecom/wecom_sender.h"
#include "ticketing/sqlite_ticket_store.h"

namespace kefu::app {
namespace {

using channels::InboundRecorder;
using channels::OutboxDispatcher;

nlohmann::json OutboxRowToJson(const channels::OutboxRow& r) {
  return {{"id", r.id},
          {"channel", r.message.channel},
          {"app", r.message.app},
          {"destination", r.message.destination},
          {"msg_type", r.message.msg_type},
          {"state", channels::OutboxStateName(r.state)},
          {"attempts", r.attempts},
          {"last_error", r.last_error},
          {"next_attempt_ms", r.next_attempt_ms},
          {"created_ms", r.created_ms},
          {"updated_ms", r.updated_ms},
          {"sent_ms", r.sent_ms ? nlohmann::json(*r.sent_ms) : nlohmann::json(nullptr)},
          {"inbound_id",
           r.message.inbound_id ? nlohmann::json(*r.message.inbound_id) : nlohmann::json(nullptr)}};
}

bot::InboundMessage ToBot(const channels::StoredInbound& s) {
  bot::InboundMessage m;
  m.inbound_id = s.id;
  m.channel = s.message.channel;
  m.app = s.message.app;
  m.sender = s.message.sender;
  m.msg_type = s.message.msg_type;
  m.event = s.message.event;
  m.text = s.message.text;
  m.reply_context = s.message.reply_context;
  m.platform_msg_id = s.message.platform_msg_id;
  m.platform_time_ms = s.message.platform_time_ms;
  return m;
}

class Ledger final : public bot::InboundLedger {
 public:
  Result<bool> MarkProcessed(storage::Database& db, int64_t inbound_id, TimePoint now) override {
    KEFU_RETURN_IF_ERROR(channels::MarkInboundProcessed(db, inbound_id, ToUnixMs(now)));
    return db.Changes() == 1;
  }
};

class Outbox final : public bot::ReplyOutbox {
 public:
  Outbox(const Clock& clock, OutboxDispatcher& dispatcher)
      : clock_(clock), dispatcher_(dispatcher) {}
  Status Enqueue(storage::Database& db, const bot::OutboundReply& r) override {
    channels::OutboundMessage m;
    m.channel = r.channel;
    m.app = r.app;
    m.destination = r.destination;
    m.msg_type = r.reply.format == bot::ReplyFormat::kMarkdown ? "markdown" : "text";
    m.content = r.reply.text;
    m.reply_context = r.reply_context;
    m.idempotency_key = r.idempotency_key;
    m.inbound_id = r.inbound_id;
    return channels::EnqueueOutbound(db, m, clock_.NowUnixMs()).status();
  }
  void Committed() override { dispatcher_.Notify(); }

 private:
  const Clock& clock_;
  OutboxDispatcher& dispatcher_;
};

// An agent's public reply on a ticket: addressed with the app and reply context of the
// customer's latest message on that channel, and sent through the same outbox.
class AgentReplies final : public ticketing::ReplySink {
 public:
  AgentReplies(const Clock& clock, OutboxDispatcher& dispatcher)
      : clock_(clock), dispatcher_(dispatcher) {}
  Status Enqueue(storage::Database& db, const ticketing::OutboundReply& r) override {
    KEFU_ASSIGN_OR_RETURN(auto ctx, channels::LatestReplyContext(db, r.channel, r.requester));
    if (!ctx) {
      return FailedPrecondition("no " + r.channel + " message from " + r.requester +
                                " to reply to");
    }
    channels::OutboundMessage m;
    m.channel = r.channel;
    m.app = ctx->first;
    m.destination = r.requester;
    m.content = r.body;
    m.reply_context = ctx->second;
    m.idempotency_key = "agent:" + std::to_string(r.event_id);
    KEFU_RETURN_IF_ERROR(channels::EnqueueOutbound(db, m, clock_.NowUnixMs()).status());
    dispatcher_.Notify();
    return Status::Ok();
  }

 private:
  const Clock& clock_;
  OutboxDispatcher& dispatcher_;
};

// Hands stored messages to the bot's submitter (looked up lazily: the bot Provides it in its Init).
class Sink final : public channels::InboundSink {
 public:
  explicit Sink(ServiceRegistry& registry) : registry_(registry) {}
  void OnInbound(const channels::StoredInbound& m) override {
    if (auto* submitter = registry_.Get<bot::InboundSubmitter>()) submitter->Submit(ToBot(m));
  }

 private:
  ServiceRegistry& registry_;
};

struct WecomApp {
  std::unique_ptr<channels::wecom::WecomApi> api;
  std::unique_ptr<channels::wecom::WecomApi> kf_api;
  std::unique_ptr<channels::wecom::KfSyncer> kf;
  std::unique_ptr<channels::wecom::WecomCallbackHandler> handler;
  std::unique_ptr<channels::wecom::WecomSender> sender;
  std::unique_ptr<channels::wecom::KfSender> kf_sender;
};

struct DingtalkApp {
  std::unique_ptr<channels::dingtalk::DingtalkApi> api;
  std::unique_ptr<channels::dingtalk::DingtalkCallbackHandler> handler;
  std::unique_ptr<channels::dingtalk::DingtalkSender> sender;
  std::unique_ptr<channels::dingtalk::StreamFrameHandler> stream_handler;
  std::unique_ptr<channels::dingtalk::DingtalkStreamClient> stream;
};

class ChannelsModule final : public Module {
 public:
  explicit ChannelsModule(ChannelsConfig config) : config_(std::move(config)) {}
  ~ChannelsModule() override { Stop(); }

  std::string_view name() const override { return "channels"; }
  std::vector<storage::Migration> Migrations() const override {
    return channels::ChannelMigrations();
  }

  Status Init(Services& s) override {
    services_ = &s;
    http_ = std::make_unique<channels::HttplibClient>();
    pool_ = std::make_unique<channels::HttpWorkerPool>(2);
    sink_ = std::make_unique<Sink>(s.registry);
    recorder_ = std::make_unique<InboundRecorder>(s.writer, sink_.get());
    channels::DispatcherOptions opts;
    opts.poll_interval = std::chrono::milliseconds(500);
    dispatcher_ = std::make_unique<OutboxDispatcher>(s.writer, s.reads, s.clock, s.metrics, opts);

    for (const auto& cfg : config_.wecom_apps) {
      auto& a = wecom_.emplace_back(std::make_unique<WecomApp>());
      a->api = std::make_unique<channels::wecom::WecomApi>(cfg.api_base, cfg.corp_id, cfg.secret,
                                                           *http_, s.clock);
      a->sender = std::make_unique<channels::wecom::WecomSender>(cfg, *a->api, s.clock);
      dispatcher_->AddSender("wecom", cfg.name, a->sender.get());
      if (cfg.kf) {
        a->kf_api = std::make_unique<channels::wecom::WecomApi>(
            cfg.api_base, cfg.corp_id, cfg.kf_secret.empty() ? cfg.secret : cfg.kf_secret, *http_,
            s.clock);
        a->kf = std::make_unique<channels::wecom::KfSyncer>(cfg.name, cfg.corp_id, *a->kf_api,
                                                            *recorder_, s.reads, *pool_, s.clock);
        a->kf_sender = std::make_unique<channels::wecom::KfSender>(cfg, *a->kf_api, s.clock);
        dispatcher_->AddSender("wecom_kf", cfg.name, a->kf_sender.get());
      }
      a->handler = std::make_unique<channels::wecom::WecomCallbackHandler>(cfg, s.clock, *recorder_,
                                                                           a->kf.get(), s.metrics);
      for (const char* method : {"GET", "POST"}) {
        s.router.Add(method, "/callback/wecom/" + cfg.name, a->handler->AsHttpHandler(),
                     server::RouteOptions::Public());
      }
    }
    for (const auto& cfg : config_.dingtalk_apps) {
      auto& a = dingtalk_.emplace_back(std::make_unique<DingtalkApp>());
      a->api = std::make_unique<channels::dingtalk::DingtalkApi>(cfg, *http_, s.clock);
      a->sender =
          std::make_unique<channels::dingtalk::DingtalkSender>(cfg, *a->api, *http_, s.clock);
      dispatcher_->AddSender("dingtalk", cfg.name, a->sender.get());
      a->handler = std::make_unique<channels::dingtalk::DingtalkCallbackHandler>(
          cfg, s.clock, *recorder_, s.metrics);
      s.router.Add("POST", "/callback/dingtalk/" + cfg.name, a->handler->RobotHandler(),
                   server::RouteOptions::Public());
      s.router.Add("POST", "/callback/dingtalk/" + cfg.name + "/event", a->handler->EventHandler(),
                   server::RouteOptions::Public());
      if (cfg.mode == channels::dingtalk::DingtalkMode::kStream) {
        a->stream_handler =
            std::make_unique<channels::dingtalk::StreamFrameHandler>(cfg, s.clock, *recorder_);
        a->stream = std::make_unique<channels::dingtalk::DingtalkStreamClient>(
            *a->api, *a->stream_handler, s.clock);
      }
    }

    s.router.Add(
        "GET", "/api/v1/outbox",
        [&s](HttpRequest& req, HttpResponder respond) {
          std::optional<channels::OutboxState> state;
          if (auto v = req.Query("state")) {
            if (*v == "pending")
              state = channels::OutboxState::kPending;
            else if (*v == "held")
              state = channels::OutboxState::kHeld;
            else if (*v == "sent")
              state = channels::OutboxState::kSent;
            else if (*v == "dead")
              state = channels::OutboxState::kDead;
            else {
              respond(HttpResponse::Error(
                  InvalidArgument("state: must be pending, held, sent or dead")));
              return;
            }
          }
          int limit = 100;
          if (auto v = req.Query("limit")) {
            try {
              limit = std::stoi(std::string(*v));
            } catch (...) {
              limit = 0;
            }
            if (limit < 1 || limit > 1000) {
              respond(HttpResponse::Error(InvalidArgument("limit: must be within 1..1000")));
              return;
            }
          }
          RespondWithRead(
              s,
              [state, limit](storage::Database& db) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(auto rows, channels::ListOutbox(db, state, limit));
                nlohmann::json items = nlohmann::json::array();
                for (const auto& r : rows)
                  items.push_back(OutboxRowToJson(r));
                return JsonResponse({{"outbox", std::move(items)}});
              },
              std::move(respond));
        },
        server::RouteOptions::Role("supervisor"));

    agent_replies_ = std::make_unique<AgentReplies>(s.clock, *dispatcher_);
    s.registry.Provide<ticketing::ReplySink>(*agent_replies_);
    ledger_ = std::make_unique<Ledger>();
    outbox_ = std::make_unique<Outbox>(s.clock, *dispatcher_);
    s.registry.Provide<bot::InboundLedger>(*ledger_);
    s.registry.Provide<bot::ReplyOutbox>(*outbox_);
    return Status::Ok();
  }

  Status Start() override {
    // Unprocessed inbound rows (crash between ack and bot work) go to the bot again.
    {
      auto lease = services_->reads.Borrow();
      KEFU_RETURN_IF_ERROR(recorder_->ResumeUnprocessed(*lease));
    }
    dispatcher_->Start();
    for (auto& a : dingtalk_) {
      if (a->stream) a->stream->Start();
    }
    for (auto& a : wecom_) {
      if (!a->kf) continue;
      auto ids = a->kf->KnownKfIds();
      if (!ids.ok()) continue;
      for (const auto& id : *ids)
        a->kf->Schedule(id, "");
    }
    return Status::Ok();
  }

  void Stop() override {
    for (auto& a : dingtalk_) {
      if (a->stream) a->stream->Stop();
    }
    if (dispatcher_) dispatcher_->Stop();
    pool_.reset();
  }

 private:
  ChannelsConfig config_;
  Services* services_ = nullptr;
  std::unique_ptr<channels::HttpClient> http_;
  std::unique_ptr<channels::HttpWorkerPool> pool_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<InboundRecorder> recorder_;
  std::unique_ptr<OutboxDispatcher> dispatcher_;
  std::vector<std::unique_ptr<WecomApp>> wecom_;
  std::vector<std::unique_ptr<DingtalkApp>> dingtalk_;
  std::unique_ptr<AgentReplies> agent_replies_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Outbox> outbox_;
};

}  // namespace

std::unique_ptr<Module> MakeChannelsModule(ChannelsConfig config) {
  return std::make_unique<ChannelsModule>(std::move(config));
}

}  // namespace kefu::app
