#include "app/knowledge_api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <mutex>
#include <utility>

#include "app/api_support.h"
#include "bot/knowledge_faq_matcher.h"
#include "knowledge/faq_io.h"
#include "knowledge/fts5_tokenizer.h"
#include "knowledge/sqlite_faq_store.h"

namespace kefu::app {
namespace {

// Imports larger than this rebuild the matcher from the store (and re-learn the vocabulary)
// instead of applying FAQs one by one.
constexpr size_t kRebuildAfterImportOf = 200;

Result<int64_t> IntParam(const HttpRequest& r, const char* name, int64_t fallback) {
  auto v = r.Query(name);
  if (!v || v->empty()) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return InvalidArgument(std::string(name) + ": must be an integer");
  }
  return out;
}

// The live FAQ base as the matcher sees it. Changes are applied after their commit.
class LiveFaqs {
 public:
  explicit LiveFaqs(knowledge::MatcherOptions options)
      : matcher_(std::move(options)), adapter_(matcher_) {}

  knowledge::Matcher& matcher() { return matcher_; }
  void Provide(ServiceRegistry& registry) {
    registry.Provide<knowledge::Matcher>(matcher_);
    registry.Provide<bot::FaqMatcher>(adapter_);
  }
  void Reload(const std::vector<knowledge::Faq>& faqs, knowledge::LexiconEntries lexicon) {
    matcher_.SetLexiconEntries(std::move(lexicon));
    adapter_.Reload(faqs);
  }
  void Upsert(const knowledge::Faq& faq) {
    Status s = adapter_.Upsert(faq);
    if (!s.ok())
      spdlog::warn("knowledge: matcher upsert failed faq_id={} error={}", faq.id, s.ToString());
  }
  void Remove(const std::string& id) {
    Status s = adapter_.Remove(id);
    if (!s.ok())
      spdlog::warn("knowledge: matcher remove failed faq_id={} error={}", id, s.ToString());
  }

 private:
  knowledge::Matcher matcher_;
  bot::KnowledgeFaqMatcher adapter_;
};

Result<knowledge::LexiconEntries> LoadLexicon(knowledge::FaqStore& store, storage::Database& db) {
  knowledge::LexiconEntries e;
  KEFU_ASSIGN_OR_RETURN(e.words, store.DictionaryWords(db));
  KEFU_ASSIGN_OR_RETURN(e.synonyms, store.Synonyms(db));
  return e;
}

struct ImportResult {
  size_t created = 0, updated = 0;
  std::vector<knowledge::FaqLineError> errors;
  std::vector<knowledge::Faq> stored;
};

// Applies a JSON merge of `patch` onto `faq` (PATCH semantics; id and timestamps ignored).
Result<knowledge::Faq> Merge(const knowledge::Faq& faq, const nlohmann::json& patch) {
  nlohmann::json j = knowledge::FaqToJson(faq);
  for (const auto& [k, v] : patch.items()) {
    if (k == "id" || k == "created_at" || k == "updated_at") continue;
    j[k] = v;
  }
  KEFU_ASSIGN_OR_RETURN(knowledge::Faq merged, knowledge::FaqFromJson(j));
  merged.id = faq.id;
  return merged;
}

class KnowledgeModule final : public Module {
 public:
  explicit KnowledgeModule(knowledge::MatcherOptions options)
      : live_(std::make_unique<LiveFaqs>(std::move(options))) {}

  std::string_view name() const override { return "knowledge"; }

  void ConfigureDatabase(storage::DatabaseOptions& options) const override {
    options.connection_initializers.push_back(knowledge::KefuZhConnectionInitializer());
  }

  std::vector<storage::Migration> Migrations() const override {
    return knowledge::KnowledgeMigrations();
  }

  Status Init(Services& services) override {
    services_ = &services;
    store_ = std::make_unique<knowledge::SqliteFaqStore>(services.clock);
    KEFU_RETURN_IF_ERROR(ReloadFromStore());
    live_->Provide(services.registry);
    RegisterRoutes();
    spdlog::info("knowledge: matcher ready faqs={} lexicon_words={}", live_->matcher().faq_count(),
                 live_->matcher().lexicon_word_count());
    return Status::Ok();
  }

 private:
  Status ReloadFromStore() {
    struct Loaded {
      std::vector<knowledge::Faq> faqs;
      knowledge::LexiconEntries lexicon;
    };
    Result<Loaded> loaded = services_->reads.Read([this](storage::Database& db) -> Result<Loaded> {
      Loaded l;
      KEFU_ASSIGN_OR_RETURN(l.faqs, store_->LoadAll(db));
      KEFU_ASSIGN_OR_RETURN(l.lexicon, LoadLexicon(*store_, db));
      return l;
    });
    if (!loaded.ok()) return loaded.status();
    live_->Reload(loaded->faqs, std::move(loaded->lexicon));
    return Status::Ok();
  }

  // Runs `write` on the writer; after the commit, `apply` updates the matcher, then the response
  // goes out.
  void Write(std::function<Result<HttpResponse>(storage::Database&)> write,
             std::function<void()> apply, HttpResponder respond) {
    RespondWithWrite(*services_, std::move(write),
                     [apply = std::move(apply), respond = std::move(respond)](HttpResponse r) {
                       if (r.status < 300 && apply) apply();
                       respond(std::move(r));
                     });
  }

  void RegisterRoutes() {
    server::Router& router = services_->router;
    const auto admin = server::RouteOptions::Role("admin");

    router.Add("GET", "/api/v1/faqs", [this](HttpRequest& req, HttpResponder respond) {
      knowledge::FaqListQuery q;
      if (auto v = req.Query("q")) q.text = std::string(*v);
      if (auto v = req.Query("category")) q.category = std::string(*v);
      if (auto v = req.Query("tag")) q.tag = std::string(*v);
      if (auto v = req.Query("enabled"); v && !v->empty()) {
        if (*v != "true" && *v != "false") {
          respond(HttpResponse::Error(InvalidArgument("enabled: must be true or false")));
          return;
        }
        q.enabled = *v == "true";
      }
      auto limit = IntParam(req, "limit", 50);
      auto offset = IntParam(req, "offset", 0);
      if (!limit.ok() || !offset.ok()) {
        respond(HttpResponse::Error(!limit.ok() ? limit.status() : offset.status()));
        return;
      }
      q.limit = *limit;
      q.offset = *offset;
      RespondWithRead(
          *services_,
          [this, q](storage::Database& db) -> Result<HttpResponse> {
            KEFU_ASSIGN_OR_RETURN(knowledge::FaqPage page, store_->List(db, q));
            nlohmann::json items = nlohmann::json::array();
            for (const auto& f : page.faqs)
              items.push_back(knowledge::FaqToJson(f));
            return JsonResponse({{"faqs", std::move(items)},
                                 {"total", page.total},
                                 {"limit", q.limit},
                                 {"offset", q.offset}});
          },
          std::move(respond));
    });

    router.Add(
        "POST", "/api/v1/faqs",
        [this](HttpRequest& req, HttpResponder respond) {
          auto body = ParseJsonBody(req);
          if (!body.ok()) return respond(HttpResponse::Error(body.status()));
          auto faq = knowledge::FaqFromJson(*body);
          if (!faq.ok()) return respond(HttpResponse::Error(faq.status()));
          auto stored = std::make_shared<knowledge::Faq>();
          Write(
              [this, f = *faq, stored](storage::Database& db) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(*stored, store_->Create(db, f));
                return JsonResponse(knowledge::FaqToJson(*stored), 201);
              },
              [this, stored] { live_->Upsert(*stored); }, std::move(respond));
        },
        admin);

    router.Add(
        "POST", "/api/v1/faqs/import",
        [this](HttpRequest& req, HttpResponder respond) { Import(req, std::move(respond)); },
        admin);

    router.Add("GET", "/api/v1/faqs/{id}", [this](HttpRequest& req, HttpResponder respond) {
      RespondWithRead(
          *services_,
          [this, id = req.path_params["id"]](storage::Database& db) -> Result<HttpResponse> {
            KEFU_ASSIGN_OR_RETURN(knowledge::Faq f, store_->Get(db, id));
            return JsonResponse(knowledge::FaqToJson(f));
          },
          std::move(respond));
    });

    router.Add(
        "PUT", "/api/v1/faqs/{id}",
        [this](HttpRequest& req, HttpResponder respond) {
          const std::string id = req.path_params["id"];
          auto body = ParseJsonBody(req);
          if (!body.ok()) return respond(HttpResponse::Error(body.status()));
          auto faq = knowledge::FaqFromJson(*body);
          if (!faq.ok()) return respond(HttpResponse::Error(faq.status()));
          if (!faq->id.empty() && faq->id != id) {
            return respond(HttpResponse::Error(InvalidArgument("id: must match the URL")));
          }
          faq->id = id;
          auto stored = std::make_shared<knowledge::Faq>();
          Write(
              [this, f = *faq, stored](storage::Database& db) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(*stored, store_->Update(db, f));
                return JsonResponse(knowledge::FaqToJson(*stored));
              },
              [this, stored] { live_->Upsert(*stored); }, std::move(respond));
        },
        admin);

    router.Add(
        "PATCH", "/api/v1/faqs/{id}",
        [this](HttpRequest& req, HttpResponder respond) {
          const std::string id = req.path_params["id"];
          auto body = ParseJsonBody(req);
          if (!body.ok()) return respond(HttpResponse::Error(body.status()));
          auto stored = std::make_shared<knowledge::Faq>();
          Write(
              [this, id, patch = *body, stored](storage::Database& db) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq old, store_->Get(db, id));
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq merged, Merge(old, patch));
                KEFU_ASSIGN_OR_RETURN(*stored, store_->Update(db, merged));
                return JsonResponse(knowledge::FaqToJson(*stored));
              },
              [this, stored] { live_->Upsert(*stored); }, std::move(respond));
        },
        admin);

    router.Add(
        "DELETE", "/api/v1/faqs/{id}",
        [this](HttpRequest& req, HttpResponder respond) {
          const std::string id = req.path_params["id"];
          Write(
              [this, id](storage::Database& db) -> Result<HttpResponse> {
                KEFU_RETURN_IF_ERROR(store_->Delete(db, id));
                HttpResponse r;
                r.status = 204;
                return r;
              },
              [this, id] { live_->Remove(id); }, std::move(respond));
        },
        admin);

    router.Add(
        "POST", "/api/v1/faqs/{id}/similar", [this](HttpRequest& req, HttpResponder respond) {
          const std::string id = req.path_params["id"];
          auto body = ParseJsonBody(req);
          if (!body.ok()) return respond(HttpResponse::Error(body.status()));
          auto q = body->find("question");
          if (q == body->end() || !q->is_string()) {
            return respond(HttpResponse::Error(InvalidArgument("question: required string")));
          }
          auto stored = std::make_shared<knowledge::Faq>();
          Write(
              [this, id, question = q->get<std::string>(),
               stored](storage::Database& db) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(*stored, store_->AddSimilarQuestion(db, id, question));
                return JsonResponse(knowledge::FaqToJson(*stored));
              },
              [this, stored] { live_->Upsert(*stored); }, std::move(respond));
        });

    router.AddSync("GET", "/api/v1/faq-match", [this](HttpRequest& req) {
      const std::string q(req.Query("q").value_or(""));
      auto k = IntParam(req, "k", 5);
      if (!k.ok()) return HttpResponse::Error(k.status());
      if (*k < 1 || *k > 50) return HttpResponse::Error(InvalidArgument("k: must be 1..50"));
      nlohmann::json items = nlohmann::json::array();
      for (const auto& m : live_->matcher().Match(q, static_cast<size_t>(*k))) {
        items.push_back({{"faq_id", m.faq_id},
                         {"matched_question", m.matched_question},
                         {"score", m.score},
                         {"confidence", m.confidence}});
      }
      return JsonResponse({{"matches", std::move(items)}});
    });
  }

  void Import(HttpRequest& req, HttpResponder respond) {
    knowledge::ParsedFaqs parsed;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_discarded() && body.is_object() && body.contains("faqs")) {
      if (!body["faqs"].is_array()) {
        return respond(HttpResponse::Error(InvalidArgument("faqs: must be an array")));
      }
      for (size_t i = 0; i < body["faqs"].size(); ++i) {
        auto f = knowledge::FaqFromJson(body["faqs"][i]);
        if (!f.ok()) {
          parsed.errors.push_back({i + 1, f.status().message()});
        } else {
          parsed.faqs.push_back(std::move(f).value());
          parsed.lines.push_back(i + 1);
        }
      }
    } else {
      parsed = knowledge::ParseFaqJsonl(req.body);
    }
    const bool dry_run = req.Query("dry_run").value_or("") == "true";
    auto result = std::make_shared<ImportResult>();
    result->errors = parsed.errors;
    auto respond_with = [result, dry_run](size_t imported) {
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& e : result->errors)
        errors.push_back({{"line", e.line}, {"reason", e.reason}});
      return JsonResponse({{"imported", imported},
                           {"created", result->created},
                           {"updated", result->updated},
                           {"errors", std::move(errors)},
                           {"dry_run", dry_run}});
    };
    if (dry_run) return respond(respond_with(parsed.faqs.size()));
    RespondWithWrite(
        *services_,
        [this, parsed = std::move(parsed), result,
         respond_with](storage::Database& db) -> Result<HttpResponse> {
          for (size_t i = 0; i < parsed.faqs.size(); ++i) {
            const knowledge::Faq& f = parsed.faqs[i];
            Result<knowledge::Faq> stored = InvalidArgument("not stored");
            bool updated = false;
            if (!f.id.empty()) {
              stored = store_->Update(db, f);
              updated = stored.ok();
            }
            if (f.id.empty() || stored.status().code() == StatusCode::kNotFound) {
              stored = store_->Create(db, f);
            }
            if (!stored.ok()) {
              const StatusCode code = stored.status().code();
              if (code != StatusCode::kInvalidArgument && code != StatusCode::kAlreadyExists) {
                return stored.status();
              }
              result->errors.push_back({parsed.lines[i], stored.status().message()});
              continue;
            }
            ++(updated ? result->updated : result->created);
            result->stored.push_back(std::move(stored).value());
          }
          return respond_with(result->stored.size());
        },
        [this, result, respond = std::move(respond)](HttpResponse r) mutable {
          if (r.status >= 300) return respond(std::move(r));
          if (result->stored.size() <= kRebuildAfterImportOf) {
            for (const auto& f : result->stored)
              live_->Upsert(f);
            return respond(std::move(r));
          }
          // A bulk import rebuilds the matcher (re-learning the vocabulary) before answering,
          // off the writer thread.
          auto shared = std::make_shared<HttpResponder>(std::move(respond));
          auto response = std::make_shared<HttpResponse>(std::move(r));
          const bool posted = services_->workers.Post([this, shared, response] {
            if (Status s = ReloadFromStore(); !s.ok()) {
              spdlog::warn("knowledge: reload after import failed error={}", s.ToString());
            }
            (*shared)(std::move(*response));
          });
          if (!posted) {
            for (const auto& f : result->stored)
              live_->Upsert(f);
            (*shared)(std::move(*response));
          }
        });
  }

  std::unique_ptr<LiveFaqs> live_;
  Services* services_ = nullptr;
  std::unique_ptr<knowledge::SqliteFaqStore> store_;
};

}  // namespace

std::unique_ptr<Module> MakeKnowledgeModule(knowledge::MatcherOptions options) {
  return std::make_unique<KnowledgeModule>(std::move(options));
}

}  // namespace kefu::app
