#include "app/bot_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "app/api_support.h"
#include "app/users.h"
#include "bot/conversation_engine.h"
#include "bot/knowledge_faq_matcher.h"
#include "bot/sqlite_conversation_store.h"
#include "bot/ticketing_handoff_desk.h"
#include "knowledge/faq_store.h"
#include "knowledge/matcher.h"
#include "ticketing/ticket_service.h"

namespace kefu::app {
namespace {

HttpResponse JsonBody(const nlohmann::json& j) {
  // Message bodies come from customers: never fail the response on a stray invalid byte.
  return HttpResponse::Json(200, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::optional<int64_t> ParseId(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

Result<bot::ConversationFilter> FilterFrom(const HttpRequest& request) {
  bot::ConversationFilter f;
  if (auto state = request.Query("state")) {
    f.state = bot::ParseConversationState(*state);
    if (!f.state) {
      return InvalidArgument("state: must be one of bot, waiting_agent, with_agent, closed");
    }
  }
  if (auto channel = request.Query("channel")) f.channel = std::string(*channel);
  if (auto customer = request.Query("customer_id")) {
    const auto id = ParseId(*customer);
    if (!id) return InvalidArgument("customer_id: must be a positive integer");
    f.customer_id = CustomerId(*id);
  }
  if (auto before = request.Query("before")) {
    f.before_id = ParseId(*before);
    if (!f.before_id) return InvalidArgument("before: must be a positive integer");
  }
  if (auto limit = request.Query("limit")) {
    const auto n = ParseId(*limit);
    if (!n || *n > 500) return InvalidArgument("limit: must be within 1..500");
    f.limit = static_cast<int>(*n);
  }
  return f;
}

// Forwards to the engine once Start built it; before that (or without the ports) the message stays
// unprocessed in the inbound table and is resumed by the channels at their start.
class ForwardingSubmitter final : public bot::InboundSubmitter {
 public:
  void Submit(bot::InboundMessage m) override {
    std::lock_guard lock(mu_);
    if (target_ != nullptr) target_->Submit(std::move(m));
  }
  void set_target(bot::InboundSubmitter* target) {
    std::lock_guard lock(mu_);
    target_ = target;
  }

 private:
  std::mutex mu_;
  bot::InboundSubmitter* target_ = nullptr;  // guarded by mu_
};

// One match worker per core: matching is the engine's CPU work, the writer commits in batches.
bot::EngineOptions EngineOptionsForThisMachine() {
  bot::EngineOptions o;
  o.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Customers hear the console user's display name (客服小王), not the login name.
  o.agent_name = [](storage::Database& db, std::string_view assignee) -> Result<std::string> {
    KEFU_ASSIGN_OR_RETURN(std::optional<StoredUser> user, FindUser(db, assignee));
    if (!user || user->user.disabled_at_ms) return std::string();
    return user->user.display_name;
  };
  return o;
}

class BotModule final : public Module {
 public:
  explicit BotModule(bot::BotOptions options) : options_(std::move(options)) {}

  std::string_view name() const override { return "bot"; }

  std::vector<storage::Migration> Migrations() const override {
    return bot::SqliteConversationStore::Migrations();
  }

  Status Init(Services& services) override {
    KEFU_RETURN_IF_ERROR(options_.Validate());
    services_ = &services;
    RegisterBotApi(services);
    services.registry.Provide<bot::InboundSubmitter>(submitter_);
    return Status::Ok();
  }

  Status Start() override {
    ServiceRegistry& r = services_->registry;
    const bot::FaqMatcher* matcher = r.Get<bot::FaqMatcher>();
    if (matcher == nullptr) matcher = OwnMatcher(r);
    bot::HandoffDesk* desk = r.Get<bot::HandoffDesk>();
    if (desk == nullptr) {
      if (auto* service = r.Get<ticketing::TicketService>()) {
        bot::TicketingHandoffOptions o;
        // Service hours: the first SLA calendar (the hand-off group's calendar once groups
        // carry one).
        if (!service->policies().calendars().empty()) {
          o.calendar = service->policies().calendars().front();
        }
        own_desk_ = std::make_unique<bot::TicketingHandoffDesk>(*service, services_->writer,
                                                                services_->clock, o);
        own_desk_->Start();
        desk = own_desk_.get();
      }
    }
    // One source of truth for the thresholds: the live matcher's ([knowledge] or knowledge's
    // reliability-table defaults), unless [bot] sets them.
    const knowledge::MatcherOptions* matcher_options = r.Get<knowledge::MatcherOptions>();
    if (matcher_options == nullptr) {
      if (const auto* km = r.Get<knowledge::Matcher>()) matcher_options = &km->options();
    }
    if (matcher_options != nullptr) {
      options_.InheritThresholds(*matcher_options);
      KEFU_RETURN_IF_ERROR(options_.Validate());
    }
    spdlog::info("bot thresholds answer={} suggest={}", options_.answer_threshold,
                 options_.suggest_threshold);
    auto* ledger = r.Get<bot::InboundLedger>();
    auto* outbox = r.Get<bot::ReplyOutbox>();
    if (!matcher || !ledger || !outbox || !desk) {
      spdlog::warn("bot engine not started: missing port matcher={} ledger={} outbox={} desk={}",
                   matcher != nullptr, ledger != nullptr, outbox != nullptr, desk != nullptr);
      return Status::Ok();
    }
    engine_ = std::make_unique<bot::ConversationEngine>(
        services_->writer, bot::DialoguePolicy(options_), *matcher, *ledger, *outbox, *desk,
        services_->clock, services_->metrics, EngineOptionsForThisMachine());
    submitter_.set_target(engine_.get());
    spdlog::info("bot engine started");
    return Status::Ok();
  }

  void Stop() override {
    submitter_.set_target(nullptr);
    if (engine_) engine_->Stop();
    if (own_desk_) own_desk_->Stop();
  }

 private:
  // Without a provided bot::FaqMatcher: an adapter over the knowledge module's Matcher, loaded
  // once from its FaqStore (FAQ edits after start are seen only if the knowledge module updates
  // the provided Matcher and Provides its own bot::FaqMatcher instead).
  const bot::FaqMatcher* OwnMatcher(ServiceRegistry& r) {
    auto* matcher = r.Get<knowledge::Matcher>();
    auto* faqs = r.Get<knowledge::FaqStore>();
    if (matcher == nullptr || faqs == nullptr) return nullptr;
    auto all = services_->reads.Read([faqs](storage::Database& db) { return faqs->LoadAll(db); });
    if (!all.ok()) {
      spdlog::error("bot cannot load FAQs error={}", all.status().ToString());
      return nullptr;
    }
    own_matcher_ = std::make_unique<bot::KnowledgeFaqMatcher>(*matcher);
    own_matcher_->Reload(*all);
    return own_matcher_.get();
  }

  bot::BotOptions options_;
  Services* services_ = nullptr;
  std::unique_ptr<bot::KnowledgeFaqMatcher> own_matcher_;
  std::unique_ptr<bot::TicketingHandoffDesk> own_desk_;
  ForwardingSubmitter submitter_;
  std::unique_ptr<bot::ConversationEngine> engine_;
};

}  // namespace

void RegisterBotApi(Services& services) {
  server::Router& router = services.router;
  static const bot::SqliteConversationStore kStore;

  router.Add(
      "GET", "/api/v1/conversations", [&services](HttpRequest& request, HttpResponder respond) {
        auto filter = FilterFrom(request);
        if (!filter.ok()) {
          respond(HttpResponse::Error(filter.status()));
          return;
        }
        RespondWithRead(
            services,
            [f = *filter](storage::Database& db) -> Result<HttpResponse> {
              KEFU_ASSIGN_OR_RETURN(auto list, kStore.ListConversations(db, f));
              nlohmann::json items = nlohmann::json::array();
              for (const auto& c : list)
                items.push_back(bot::ConversationToJson(c));
              nlohmann::json body = {{"conversations", std::move(items)}, {"next_before", nullptr}};
              if (static_cast<int>(list.size()) == f.limit) {
                body["next_before"] = list.back().id.value();
              }
              return JsonBody(body);
            },
            std::move(respond));
      });

  router.Add(
      "GET", "/api/v1/conversations/{id}",
      [&services](HttpRequest& request, HttpResponder respond) {
        const auto id = ParseId(request.path_params["id"]);
        if (!id) {
          respond(HttpResponse::Error(InvalidArgument("id: must be a positive integer")));
          return;
        }
        RespondWithRead(
            services,
            [id = *id](storage::Database& db) -> Result<HttpResponse> {
              KEFU_ASSIGN_OR_RETURN(auto conv, kStore.FindConversation(db, ConversationId(id)));
              if (!conv) return NotFound("conversation " + std::to_string(id) + " not found");
              KEFU_ASSIGN_OR_RETURN(auto customer, kStore.FindCustomer(db, conv->customer_id));
              KEFU_ASSIGN_OR_RETURN(auto messages, kStore.ListMessages(db, conv->id));
              nlohmann::json items = nlohmann::json::array();
              for (const auto& m : messages)
                items.push_back(bot::MessageToJson(m));
              nlohmann::json body = {{"conversation", bot::ConversationToJson(*conv)},
                                     {"customer", nullptr},
                                     {"messages", std::move(items)}};
              if (customer) body["customer"] = bot::CustomerToJson(*customer);
              return JsonBody(body);
            },
            std::move(respond));
      });

  router.Add("GET", "/api/v1/customers/{id}",
             [&services](HttpRequest& request, HttpResponder respond) {
               const auto id = ParseId(request.path_params["id"]);
               if (!id) {
                 respond(HttpResponse::Error(InvalidArgument("id: must be a positive integer")));
                 return;
               }
               RespondWithRead(
                   services,
                   [id = *id](storage::Database& db) -> Result<HttpResponse> {
                     KEFU_ASSIGN_OR_RETURN(auto customer, kStore.FindCustomer(db, CustomerId(id)));
                     if (!customer)
                       return NotFound("customer " + std::to_string(id) + " not found");
                     bot::ConversationFilter f;
                     f.customer_id = customer->id;
                     f.limit = 500;
                     KEFU_ASSIGN_OR_RETURN(auto list, kStore.ListConversations(db, f));
                     nlohmann::json items = nlohmann::json::array();
                     for (const auto& c : list)
                       items.push_back(bot::ConversationToJson(c));
                     return JsonBody({{"customer", bot::CustomerToJson(*customer)},
                                      {"conversations", std::move(items)}});
                   },
                   std::move(respond));
             });
}

std::unique_ptr<Module> MakeBotModule(bot::BotOptions options) {
  return std::make_unique<BotModule>(std::move(options));
}

}  // namespace kefu::app
