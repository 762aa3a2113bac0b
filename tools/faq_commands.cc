#include "tools/faq_commands.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

#include "knowledge/eval.h"
#include "knowledge/faq_io.h"
#include "knowledge/fts5_tokenizer.h"
#include "knowledge/matcher.h"
#include "knowledge/sqlite_faq_store.h"
#include "knowledge/text_normalizer.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace kefu::tools {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::string> FormatFor(const std::string& format, const std::string& path) {
  if (!format.empty()) {
    if (format != "jsonl" && format != "csv") {
      return InvalidArgument("--format must be jsonl or csv, got \"" + format + "\"");
    }
    return format;
  }
  return path.ends_with(".csv") ? std::string("csv") : std::string("jsonl");
}

// kefuctl's connections come from the app's module list; make sure this one has the kefu_zh
// tokenizer and (when writable) the knowledge tables even if the list lacks the module.
Status PrepareKnowledge(storage::Database& db, bool writable) {
  KEFU_RETURN_IF_ERROR(knowledge::RegisterKefuZhTokenizer(db.handle()));
  if (writable) {
    return storage::ApplyMigrations(db, "knowledge", knowledge::KnowledgeMigrations());
  }
  return Status::Ok();
}

struct ImportOutcome {
  size_t created = 0, updated = 0;
  std::vector<knowledge::FaqLineError> errors;
};

// Stores parsed FAQs in one transaction: existing ids are replaced, others created.
Result<ImportOutcome> StoreAll(storage::Database& db, knowledge::FaqStore& store,
                               const knowledge::ParsedFaqs& parsed) {
  ImportOutcome out;
  out.errors = parsed.errors;
  storage::Transaction tx(db);
  KEFU_RETURN_IF_ERROR(tx.begin_status());
  for (size_t i = 0; i < parsed.faqs.size(); ++i) {
    const knowledge::Faq& f = parsed.faqs[i];
    Result<knowledge::Faq> stored = InvalidArgument("not stored");
    bool updated = false;
    if (!f.id.empty()) {
      stored = store.Update(db, f);
      updated = stored.ok();
    }
    if (f.id.empty() || stored.status().code() == StatusCode::kNotFound) {
      stored = store.Create(db, f);
    }
    if (!stored.ok()) {
      const StatusCode code = stored.status().code();
      if (code != StatusCode::kInvalidArgument && code != StatusCode::kAlreadyExists) {
        return stored.status();
      }
      out.errors.push_back({parsed.lines[i], stored.status().message()});
      continue;
    }
    ++(updated ? out.updated : out.created);
  }
  KEFU_RETURN_IF_ERROR(tx.Commit());
  return out;
}

int Import(CommandContext& ctx, const std::string& path, const std::string& format_flag,
           bool dry_run) {
  auto format = FormatFor(format_flag, path);
  if (!format.ok()) return ctx.Fail(format.status());
  auto text = ReadFile(path);
  if (!text.ok()) return ctx.Fail(text.status());
  const knowledge::ParsedFaqs parsed =
      *format == "csv" ? knowledge::ParseFaqCsv(*text) : knowledge::ParseFaqJsonl(*text);
  ImportOutcome outcome;
  outcome.errors = parsed.errors;
  if (!dry_run) {
    auto db = ctx.WriteDatabase();
    if (!db.ok()) return ctx.Fail(db.status());
    if (Status s = PrepareKnowledge(**db, true); !s.ok()) return ctx.Fail(s);
    knowledge::SqliteFaqStore store(ctx.clock());
    auto stored = StoreAll(**db, store, parsed);
    if (!stored.ok()) return ctx.Fail(stored.status());
    outcome = std::move(stored).value();
  } else {
    outcome.created = parsed.faqs.size();
  }
  std::sort(outcome.errors.begin(), outcome.errors.end(),
            [](const auto& a, const auto& b) { return a.line < b.line; });
  const size_t imported = dry_run ? parsed.faqs.size() : outcome.created + outcome.updated;
  if (ctx.json()) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : outcome.errors)
      errors.push_back({{"line", e.line}, {"reason", e.reason}});
    ctx.PrintJson({{"imported", imported},
                   {"created", dry_run ? 0 : outcome.created},
                   {"updated", outcome.updated},
                   {"errors", std::move(errors)},
                   {"dry_run", dry_run}});
  } else {
    for (const auto& e : outcome.errors) {
      ctx.err() << path << ": line " << e.line << ": " << e.reason << '\n';
    }
    ctx.out() << (dry_run ? "would import " : "imported ") << imported << " faqs";
    if (!dry_run)
      ctx.out() << " (" << outcome.created << " created, " << outcome.updated << " updated)";
    ctx.out() << ", " << outcome.errors.size() << " rejected\n";
  }
  return outcome.errors.empty() ? kExitOk : kExitFailure;
}

int Export(CommandContext& ctx, const std::string& format_flag, const std::string& out_path) {
  auto format = FormatFor(format_flag, out_path);
  if (!format.ok()) return ctx.Fail(format.status());
  auto db = ctx.ReadDatabase();
  if (!db.ok()) return ctx.Fail(db.status());
  if (Status s = PrepareKnowledge(**db, false); !s.ok()) return ctx.Fail(s);
  knowledge::SqliteFaqStore store(ctx.clock());
  auto faqs = store.LoadAll(**db);
  if (!faqs.ok()) return ctx.Fail(faqs.status());
  const std::string text =
      *format == "csv" ? knowledge::FormatFaqCsv(*faqs) : knowledge::FormatFaqJsonl(*faqs);
  if (out_path.empty() || out_path == "-") {
    ctx.out() << text;
    return kExitOk;
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.good()) return ctx.Fail(Unavailable("cannot write " + out_path));
  ctx.err() << "exported " << faqs->size() << " faqs to " << out_path << '\n';
  return kExitOk;
}

int Match(CommandContext& ctx, const std::string& query, int k) {
  if (k < 1 || k > 50) return ctx.Fail(InvalidArgument("-k must be 1..50"));
  auto db = ctx.ReadDatabase();
  if (!db.ok()) return ctx.Fail(db.status());
  if (Status s = PrepareKnowledge(**db, false); !s.ok()) return ctx.Fail(s);
  knowledge::SqliteFaqStore store(ctx.clock());
  auto faqs = store.LoadAll(**db);
  if (!faqs.ok()) return ctx.Fail(faqs.status());
  knowledge::LexiconEntries lexicon;
  if (auto w = store.DictionaryWords(**db); w.ok()) lexicon.words = std::move(w).value();
  if (auto s = store.Synonyms(**db); s.ok()) lexicon.synonyms = std::move(s).value();
  auto config = ctx.Config();
  if (!config.ok()) return ctx.Fail(config.status());
  knowledge::Matcher matcher((*config)->knowledge.matcher);
  matcher.Rebuild(*faqs, lexicon);
  std::map<std::string, std::string> standard;
  for (const auto& f : *faqs)
    standard[f.id] = f.question;
  const auto matches = matcher.Match(query, static_cast<size_t>(k));
  if (ctx.json()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : matches) {
      items.push_back({{"faq_id", m.faq_id},
                       {"question", standard[m.faq_id]},
                       {"matched_question", m.matched_question},
                       {"score", m.score},
                       {"confidence", m.confidence}});
    }
    ctx.PrintJson({{"query", query}, {"matches", std::move(items)}});
    return kExitOk;
  }
  if (matches.empty()) ctx.out() << "no match\n";
  for (size_t i = 0; i < matches.size(); ++i) {
    const auto& m = matches[i];
    ctx.out() << (i + 1) << ". " << std::fixed << std::setprecision(3) << m.confidence << "  "
              << m.faq_id << "  " << standard[m.faq_id];
    if (m.matched_question != standard[m.faq_id])
      ctx.out() << "  (via: " << m.matched_question << ")";
    ctx.out() << '\n';
  }
  return kExitOk;
}

// kefuctl faq dict|synonym: the admin lexicon, written like the REST API writes it (the stored
// generation moves, so a running kefud rebuilds its matcher within refresh_interval_s).
Result<storage::Database*> LexiconDatabase(CommandContext& ctx, bool writable) {
  auto db = writable ? ctx.WriteDatabase() : ctx.ReadDatabase();
  if (!db.ok()) return db.status();
  KEFU_RETURN_IF_ERROR(PrepareKnowledge(**db, writable));
  return *db;
}

int DictAdd(CommandContext& ctx, const std::string& word) {
  auto db = LexiconDatabase(ctx, true);
  if (!db.ok()) return ctx.Fail(db.status());
  knowledge::SqliteFaqStore store(ctx.clock());
  if (Status s = store.AddDictionaryWord(**db, word); !s.ok()) return ctx.Fail(s);
  const std::string stored = knowledge::NormalizeToUtf8(word);
  if (ctx.json()) {
    ctx.PrintJson({{"word", stored}});
  } else {
    ctx.out() << "added word " << stored << '\n';
  }
  return kExitOk;
}

int DictRemove(CommandContext& ctx, const std::string& word) {
  auto db = LexiconDatabase(ctx, true);
  if (!db.ok()) return ctx.Fail(db.status());
  knowledge::SqliteFaqStore store(ctx.clock());
  if (Status s = store.RemoveDictionaryWord(**db, word); !s.ok()) return ctx.Fail(s);
  if (!ctx.json()) ctx.out() << "removed word " << knowledge::NormalizeToUtf8(word) << '\n';
  return kExitOk;
}

int DictList(CommandContext& ctx) {
  auto db = LexiconDatabase(ctx, false);
  if (!db.ok()) return ctx.Fail(db.status());
  knowledge::SqliteFaqStore store(ctx.clock());
  auto words = store.DictionaryWords(**db);
  if (!words.ok()) return ctx.Fail(words.status());
  if (ctx.json()) {
    ctx.PrintJson({{"words", *words}});
  } else {
    for (const auto& w : *words)
      ctx.out() << w << '\n';
  }
  return kExitOk;
}

int SynonymAdd(CommandContext& ctx, const std::string& variant, const std::string& canonical) {
  auto db = LexiconDatabase(ctx, true);
  if (!db.ok()) return ctx.Fail(db.status());
  knowledge::SqliteFaqStore store(ctx.clock());
  if (Status s = store.AddSynonym(**db, variant, canonical); !s.ok()) return ctx.Fail(s);
  const std::string v = knowledge::NormalizeToUtf8(variant);
  const std::string c = knowledge::NormalizeToUtf8(canonical);
  if (ctx.json()) {
    ctx.PrintJson({{"variant", v}, {"canonical", c}});
  } else {
    ctx.out() << "added synonym " << v << " -> " << c << '\n';
  }
  return kExitOk;
}

int SynonymRemove(CommandContext& ctx, const std::string& variant) {
  auto db = LexiconDatabase(ctx, true);
  if (!db.ok()) return ctx.Fail(db.status());
  knowledge::SqliteFaqStore store(ctx.clock());
  if (Status s = store.RemoveSynonym(**db, variant); !s.ok()) return ctx.Fail(s);
  if (!ctx.json()) ctx.out() << "removed synonym " << knowledge::NormalizeToUtf8(variant) << '\n';
  return kExitOk;
}

int SynonymList(CommandContext& ctx) {
  auto db = LexiconDatabase(ctx, false);
  if (!db.ok()) return ctx.Fail(db.status());
  knowledge::SqliteFaqStore store(ctx.clock());
  auto synonyms = store.Synonyms(**db);
  if (!synonyms.ok()) return ctx.Fail(synonyms.status());
  if (ctx.json()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& [v, c] : *synonyms)
      items.push_back({{"variant", v}, {"canonical", c}});
    ctx.PrintJson({{"synonyms", std::move(items)}});
  } else {
    for (const auto& [v, c] : *synonyms)
      ctx.out() << v << " -> " << c << '\n';
  }
  return kExitOk;
}

int Eval(CommandContext& ctx, const std::string& faq_path, const std::string& queries_path,
         const std::string& adjudicated_path) {
  auto text = ReadFile(faq_path);
  if (!text.ok()) return ctx.Fail(text.status());
  auto queries = knowledge::LoadEvalQueries(queries_path);
  if (!queries.ok()) return ctx.Fail(queries.status());
  std::vector<knowledge::Adjudication> adjudicated;
  if (!adjudicated_path.empty()) {
    auto a = knowledge::LoadAdjudications(adjudicated_path);
    if (!a.ok()) return ctx.Fail(a.status());
    adjudicated = std::move(a).value();
  }
  // A fresh temporary store, removed afterwards.
  char tmpl[] = "/tmp/kefuctl-faq-eval-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return ctx.Fail(Unavailable("cannot create a temporary directory"));
  const std::string dir = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  storage::DatabaseOptions options;
  options.path = dir + "/eval.db";
  options.synchronous = storage::DatabaseOptions::Synchronous::kOff;
  options.connection_initializers.push_back(knowledge::KefuZhConnectionInitializer());
  auto db = storage::Database::Open(options);
  if (!db.ok()) return ctx.Fail(db.status());
  if (Status s = storage::ApplyMigrations(**db, "knowledge", knowledge::KnowledgeMigrations());
      !s.ok()) {
    return ctx.Fail(s);
  }
  knowledge::SqliteFaqStore store(ctx.clock());
  const knowledge::ParsedFaqs parsed = knowledge::ParseFaqJsonl(*text);
  auto stored = StoreAll(**db, store, parsed);
  if (!stored.ok()) return ctx.Fail(stored.status());
  for (const auto& e : stored->errors) {
    ctx.err() << faq_path << ": line " << e.line << ": " << e.reason << '\n';
  }
  auto faqs = store.LoadAll(**db);
  if (!faqs.ok()) return ctx.Fail(faqs.status());
  knowledge::Matcher matcher;
  matcher.Rebuild(*faqs);
  const knowledge::EvalReport report = knowledge::Evaluate(matcher, *queries, adjudicated);
  const nlohmann::json j = knowledge::EvalReportToJson(report);
  if (ctx.json()) {
    ctx.out() << j.dump() << '\n';
  } else {
    for (const auto& [k, v] : j.items())
      ctx.out() << k << ": " << v.dump() << '\n';
  }
  return kExitOk;
}

}  // namespace

void RegisterFaqCommands(CLI::App& kefuctl, CommandContext& ctx) {
  CLI::App* faq =
      kefuctl.add_subcommand("faq", "FAQ base: import, export, match, eval, dict, synonym");
  faq->require_subcommand(1);

  struct ImportArgs {
    std::string path, format;
    bool dry_run = false;
  };
  auto ia = std::make_shared<ImportArgs>();
  CLI::App* import = faq->add_subcommand("import", "Import FAQs from a JSONL or CSV file");
  import->add_option("FILE", ia->path, "FAQ file (.jsonl or .csv)")->required();
  import->add_option("--format", ia->format, "jsonl or csv (default: from the extension)");
  import->add_flag("--dry-run", ia->dry_run, "Check the file without writing");
  import->callback([&ctx, ia] {
    ctx.SetAction([&ctx, ia] { return Import(ctx, ia->path, ia->format, ia->dry_run);
});
}  // namespace kefu::tools
);

struct ExportArgs {
  std::string format, out;
};
auto ea = std::make_shared<ExportArgs>();
CLI::App* exp = faq->add_subcommand("export", "Export every FAQ as JSONL or CSV");
exp->add_option("--format", ea->format, "jsonl (default) or csv");
exp->add_option("--out,-o", ea->out, "Output file (default: stdout)");
exp->callback([&ctx, ea] {
  ctx.SetAction([&ctx, ea] { return Export(ctx, ea->format, ea->out); });
});

struct MatchArgs {
  std::string query;
  int k = 5;
};
auto ma = std::make_shared<MatchArgs>();
CLI::App* match = faq->add_subcommand("match", "Show the best FAQs for a question");
match->add_option("QUESTION", ma->query, "Customer question")->required();
match->add_option("-k", ma->k, "How many FAQs (1..50)");
match->callback([&ctx, ma] { ctx.SetAction([&ctx, ma] { return Match(ctx, ma->query, ma->k); }); });

struct EvalArgs {
  std::string faq, queries, adjudicated;
};
auto va = std::make_shared<EvalArgs>();
CLI::App* eval = faq->add_subcommand("eval", "Evaluate matching quality on labelled queries");
eval->add_option("--faq", va->faq, "FAQ JSONL file")->required();
eval->add_option("--queries", va->queries, "Queries JSONL ({\"query\", \"faq_id\"})")->required();
eval->add_option("--adjudicated", va->adjudicated, "Adjudicated sample JSONL");
eval->callback([&ctx, va] {
  ctx.SetAction([&ctx, va] { return Eval(ctx, va->faq, va->queries, va->adjudicated); });
});

struct LexiconArgs {
  std::string word, variant, canonical;
};
auto la = std::make_shared<LexiconArgs>();
CLI::App* dict = faq->add_subcommand("dict", "Admin dictionary words: add, remove, list");
dict->require_subcommand(1);
CLI::App* dict_add = dict->add_subcommand("add", "Add a dictionary word");
dict_add->add_option("WORD", la->word, "Word (2+ characters)")->required();
dict_add->callback([&ctx, la] { ctx.SetAction([&ctx, la] { return DictAdd(ctx, la->word); }); });
CLI::App* dict_remove = dict->add_subcommand("remove", "Remove a dictionary word");
dict_remove->add_option("WORD", la->word, "Word")->required();
dict_remove->callback([&ctx, la] {
  ctx.SetAction([&ctx, la] { return DictRemove(ctx, la->word); });
});
dict->add_subcommand("list", "List dictionary words")->callback([&ctx] {
  ctx.SetAction([&ctx] { return DictList(ctx); });
});

CLI::App* synonym = faq->add_subcommand("synonym", "Admin synonyms: add, remove, list");
synonym->require_subcommand(1);
CLI::App* syn_add = synonym->add_subcommand("add", "Map VARIANT to CANONICAL (e.g. 退钱 退款)");
syn_add->add_option("VARIANT", la->variant, "What customers write")->required();
syn_add->add_option("CANONICAL", la->canonical, "What the FAQ base says")->required();
syn_add->callback([&ctx, la] {
  ctx.SetAction([&ctx, la] { return SynonymAdd(ctx, la->variant, la->canonical); });
});
CLI::App* syn_remove = synonym->add_subcommand("remove", "Remove the synonym of VARIANT");
syn_remove->add_option("VARIANT", la->variant, "Variant")->required();
syn_remove->callback([&ctx, la] {
  ctx.SetAction([&ctx, la] { return SynonymRemove(ctx, la->variant); });
});
synonym->add_subcommand("list", "List synonyms")->callback([&ctx] {
  ctx.SetAction([&ctx] { return SynonymList(ctx); });
});
}

}  // namespace kefu::tools
