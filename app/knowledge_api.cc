#include "app/knowledge_api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <mutex>
#include <utility>

#include "app/api_support.h"
#include "app/knowledge_live.h"
#include "knowledge/faq_io.h"
#include "knowledge/fts5_tokenizer.h"
#include "knowledge/sqlite_faq_store.h"
#include "knowledge/text_normalizer.h"

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

// Admin dictionary words and synonyms are short phrases.
constexpr size_t kMaxLexiconEntryBytes = 96;

Result<knowledge::LexiconEntries> LoadLexicon(knowledge::FaqStore& store, storage::Database& db) {
  knowledge::LexiconEntries e;
  KEFU_ASSIGN_OR_RETURN(e.words, store.DictionaryWords(db));
  KEFU_ASSIGN_OR_RETURN(e.synonyms, store.Synonyms(db));
  return e;
}

// The string field `name` of a JSON body; kInvalidArgument naming the field otherwise.
Result<std::string> LexiconField(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) {
    return InvalidArgument(std::string(name) + ": required string");
  }
  std::string v = it->get<std::string>();
  if (v.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument(std::string(name) + ": must not be empty");
  }
  if (v.size() > kMaxLexiconEntryBytes) {
    return InvalidArgument(std::string(name) + ": at most " +
                           std::to_string(kMaxLexiconEntryBytes) + " bytes");
  }
  return v;
}

// Generation of the knowledge tables around one write job, and the FAQ changes it made.
struct Tracked {
  int64_t before = 0, after = 0;
  std::vector<FaqChange> changes;
};

struct ImportResult {
  size_t created = 0, updated = 0;
  int64_t before = 0, after = 0;  // generation around the import
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
  explicit KnowledgeModule(KnowledgeConfig config) : config_(std::move(config)) {}

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
    live_ = std::make_unique<LiveMatcher>(
        config_.matcher, [this] { return LoadSnapshot(); },
        [this] {
          return services_->reads.Read(
              [this](storage::Database& db) { return store_->Generation(db); });
        },
        services.clock, config_.refresh_interval);
    live_->RegisterMetrics(services.metrics);
    KEFU_RETURN_IF_ERROR(live_->Rebuild());
    // The bot matches through bot::FaqMatcher (the live state). knowledge::Matcher is provided
    // for its options only (thresholds): an empty matcher with the configured MatcherOptions.
    options_matcher_ = std::make_unique<knowledge::Matcher>(config_.matcher);
    services.registry.Provide<bot::FaqMatcher>(*live_);
    services.registry.Provide<knowledge::Matcher>(*options_matcher_);
    services.registry.Provide<knowledge::MatcherOptions>(config_.matcher);
    RegisterRoutes();
    RegisterLexiconRoutes();
    spdlog::info("knowledge: matcher ready faqs={} lexicon_words={} generation={}",
                 live_->faq_count(), live_->lexicon_word_count(), live_->generation());
    return Status::Ok();
  }

  Status Start() override {
    live_->Start();
    return Status::Ok();
  }

  void Stop() override {
    if (live_) live_->Stop();
  }

 private:
  Result<KnowledgeSnapshot> LoadSnapshot() {
    return services_->reads.Read([this](storage::Database& db) -> Result<KnowledgeSnapshot> {
      KnowledgeSnapshot snap;
      KEFU_ASSIGN_OR_RETURN(snap.generation, store_->Generation(db));
      KEFU_ASSIGN_OR_RETURN(snap.faqs, store_->LoadAll(db));
      KEFU_ASSIGN_OR_RETURN(snap.lexicon, LoadLexicon(*store_, db));
      return snap;
    });
  }

  // Runs `write` on the writer between two reads of the generation; after the commit the FAQ
  // changes it recorded are applied to the live matcher, then the response goes out.
  void WriteFaqs(
      std::function<Result<HttpResponse>(storage::Database&, std::vector<FaqChange>&)> write,
      HttpResponder respond) {
    auto tracked = std::make_shared<Tracked>();
    RespondWithWrite(
        *services_,
        [this, write = std::move(write), tracked](storage::Database& db) -> Result<HttpResponse> {
          KEFU_ASSIGN_OR_RETURN(tracked->before, store_->Generation(db));
          KEFU_ASSIGN_OR_RETURN(HttpResponse r, write(db, tracked->changes));
          KEFU_ASSIGN_OR_RETURN(tracked->after, store_->Generation(db));
          return r;
        },
        [this, tracked, respond = std::move(respond)](HttpResponse r) {
          if (r.status < 300) live_->Apply(tracked->changes, tracked->before, tracked->after);
          respond(std::move(r));
        });
  }

  // After a committed write, rebuilds the live matcher off the I/O thread, then responds (the
  // change is visible to the next match). If the rebuild fails or cannot be scheduled, the
  // periodic refresh retries it (the stored generation moved).
  void RebuildThenRespond(HttpResponse r, HttpResponder respond) {
    auto shared = std::make_shared<HttpResponder>(std::move(respond));
    auto response = std::make_shared<HttpResponse>(std::move(r));
    const bool posted = services_->workers.Post([this, shared, response] {
      if (Status s = live_->Rebuild(); !s.ok()) {
        spdlog::warn("knowledge: matcher rebuild failed error={}", s.ToString());
      }
      (*shared)(std::move(*response));
    });
    if (!posted) (*shared)(std::move(*response));
  }

  // Runs a lexicon write; on success rebuilds the matcher before responding.
  void WriteLexicon(std::function<Result<HttpResponse>(storage::Database&)> write,
                    HttpResponder respond) {
    RespondWithWrite(*services_, std::move(write),
                     [this, respond = std::move(respond)](HttpResponse r) mutable {
                       if (r.status >= 300) return respond(std::move(r));
                       RebuildThenRespond(std::move(r), std::move(respond));
                     });
  }

  void RegisterLexiconRoutes() {
    server::Router& router = services_->router;
    const auto admin = server::RouteOptions::Role("admin");
    const auto supervisor = server::RouteOptions::Role("supervisor");

    router.Add(
        "GET", "/api/v1/knowledge/dictionary",
        [this](HttpRequest&, HttpResponder respond) {
          RespondWithRead(
              *services_,
              [this](storage::Database& db) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(std::vector<std::string> words, store_->DictionaryWords(db));
                return JsonResponse({{"words", words}});
              },
              std::move(respond));
        },
        supervisor);

    router.Add(
        "POST", "/api/v1/knowledge/dictionary",
        [this](HttpRequest& req, HttpResponder respond) {
          auto body = ParseJsonBody(req);
          if (!body.ok()) return respond(HttpResponse::Error(body.status()));
          auto word = LexiconField(*body, "word");
          if (!word.ok()) return respond(HttpResponse::Error(word.status()));
          WriteLexicon(
              [this, w = *word](storage::Database& db) -> Result<HttpResponse> {
                KEFU_RETURN_IF_ERROR(store_->AddDictionaryWord(db, w));
                return JsonResponse({{"word", knowledge::NormalizeToUtf8(w)}}, 201);
              },
              std::move(respond));
        },
        admin);

    router.Add(
        "DELETE", "/api/v1/knowledge/dictionary/{word}",
        [this](HttpRequest& req, HttpResponder respond) {
          WriteLexicon(
              [this, w = req.path_params["word"]](storage::Database& db) -> Result<HttpResponse> {
                KEFU_RETURN_IF_ERROR(store_->RemoveDictionaryWord(db, w));
                HttpResponse r;
                r.status = 204;
                return r;
              },
              std::move(respond));
        },
        admin);

    router.Add(
        "GET", "/api/v1/knowledge/synonyms",
        [this](HttpRequest&, HttpResponder respond) {
          RespondWithRead(
              *services_,
              [this](storage::Database& db) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(auto synonyms, store_->Synonyms(db));
                nlohmann::json items = nlohmann::json::array();
                for (const auto& [variant, canonical] : synonyms)
                  items.push_back({{"variant", variant}, {"canonical", canonical}});
                return JsonResponse({{"synonyms", std::move(items)}});
              },
              std::move(respond));
        },
        supervisor);

    router.Add(
        "POST", "/api/v1/knowledge/synonyms",
        [this](HttpRequest& req, HttpResponder respond) {
          auto body = ParseJsonBody(req);
          if (!body.ok()) return respond(HttpResponse::Error(body.status()));
          auto variant = LexiconField(*body, "variant");
          if (!variant.ok()) return respond(HttpResponse::Error(variant.status()));
          auto canonical = LexiconField(*body, "canonical");
          if (!canonical.ok()) return respond(HttpResponse::Error(canonical.status()));
          WriteLexicon(
              [this, v = *variant, c = *canonical](storage::Database& db) -> Result<HttpResponse> {
                KEFU_RETURN_IF_ERROR(store_->AddSynonym(db, v, c));
                return JsonResponse({{"variant", knowledge::NormalizeToUtf8(v)},
                                     {"canonical", knowledge::NormalizeToUtf8(c)}},
                                    201);
              },
              std::move(respond));
        },
        admin);

    router.Add(
        "DELETE", "/api/v1/knowledge/synonyms/{variant}",
        [this](HttpRequest& req, HttpResponder respond) {
          WriteLexicon(
              [this,
               v = req.path_params["variant"]](storage::Database& db) -> Result<HttpResponse> {
                KEFU_RETURN_IF_ERROR(store_->RemoveSynonym(db, v));
                HttpResponse r;
                r.status = 204;
                return r;
              },
              std::move(respond));
        },
        admin);
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
          WriteFaqs(
              [this, f = *faq](storage::Database& db,
                               std::vector<FaqChange>& changes) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq stored, store_->Create(db, f));
                changes.push_back({stored, {}});
                return JsonResponse(knowledge::FaqToJson(stored), 201);
              },
              std::move(respond));
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
          WriteFaqs(
              [this, f = *faq](storage::Database& db,
                               std::vector<FaqChange>& changes) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq stored, store_->Update(db, f));
                changes.push_back({stored, {}});
                return JsonResponse(knowledge::FaqToJson(stored));
              },
              std::move(respond));
        },
        admin);

    router.Add(
        "PATCH", "/api/v1/faqs/{id}",
        [this](HttpRequest& req, HttpResponder respond) {
          const std::string id = req.path_params["id"];
          auto body = ParseJsonBody(req);
          if (!body.ok()) return respond(HttpResponse::Error(body.status()));
          WriteFaqs(
              [this, id, patch = *body](storage::Database& db,
                                        std::vector<FaqChange>& changes) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq old, store_->Get(db, id));
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq merged, Merge(old, patch));
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq stored, store_->Update(db, merged));
                changes.push_back({stored, {}});
                return JsonResponse(knowledge::FaqToJson(stored));
              },
              std::move(respond));
        },
        admin);

    router.Add(
        "DELETE", "/api/v1/faqs/{id}",
        [this](HttpRequest& req, HttpResponder respond) {
          const std::string id = req.path_params["id"];
          WriteFaqs(
              [this, id](storage::Database& db,
                         std::vector<FaqChange>& changes) -> Result<HttpResponse> {
                KEFU_RETURN_IF_ERROR(store_->Delete(db, id));
                changes.push_back({{}, id});
                HttpResponse r;
                r.status = 204;
                return r;
              },
              std::move(respond));
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
          WriteFaqs(
              [this, id, question = q->get<std::string>()](
                  storage::Database& db, std::vector<FaqChange>& changes) -> Result<HttpResponse> {
                KEFU_ASSIGN_OR_RETURN(knowledge::Faq stored,
                                      store_->AddSimilarQuestion(db, id, question));
                changes.push_back({stored, {}});
                return JsonResponse(knowledge::FaqToJson(stored));
              },
              std::move(respond));
        });

    router.AddSync("GET", "/api/v1/faq-match", [this](HttpRequest& req) {
      const std::string q(req.Query("q").value_or(""));
      auto k = IntParam(req, "k", 5);
      if (!k.ok()) return HttpResponse::Error(k.status());
      if (*k < 1 || *k > 50) return HttpResponse::Error(InvalidArgument("k: must be 1..50"));
      nlohmann::json items = nlohmann::json::array();
      for (const auto& m : live_->Match(q, static_cast<size_t>(*k))) {
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
          KEFU_ASSIGN_OR_RETURN(result->before, store_->Generation(db));
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
          KEFU_ASSIGN_OR_RETURN(result->after, store_->Generation(db));
          return respond_with(result->stored.size());
        },
        [this, result, respond = std::move(respond)](HttpResponse r) mutable {
          if (r.status >= 300) return respond(std::move(r));
          if (result->stored.size() <= kRebuildAfterImportOf) {
            std::vector<FaqChange> changes;
            for (const auto& f : result->stored)
              changes.push_back({f, {}});
            live_->Apply(changes, result->before, result->after);
            return respond(std::move(r));
          }
          // A bulk import rebuilds the matcher (re-learning the vocabulary) before answering,
          // off the writer thread.
          RebuildThenRespond(std::move(r), std::move(respond));
        });
  }

  KnowledgeConfig config_;
  Services* services_ = nullptr;
  std::unique_ptr<knowledge::SqliteFaqStore> store_;
  std::unique_ptr<LiveMatcher> live_;
  std::unique_ptr<knowledge::Matcher> options_matcher_;
};

}  // namespace

std::unique_ptr<Module> MakeKnowledgeModule(KnowledgeConfig config) {
  return std::make_unique<KnowledgeModule>(std::move(config));
}

}  // namespace kefu::app
