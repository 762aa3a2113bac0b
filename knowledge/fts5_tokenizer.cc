#include "knowledge/fts5_tokenizer.h"

#include <sqlite3.h>

#include <set>
#include <string>

#include "knowledge/matcher.h"
#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

struct TokenizerInstance {
  std::shared_ptr<const Analyzer> analyzer;
};

int Create(void* /*ctx*/, const char** /*args*/, int /*nargs*/, Fts5Tokenizer** out) {
  *out = reinterpret_cast<Fts5Tokenizer*>(new TokenizerInstance{Fts5Analyzer()});
  return SQLITE_OK;
}

void Delete(Fts5Tokenizer* t) {
  delete reinterpret_cast<TokenizerInstance*>(t);
}

int Tokenize(Fts5Tokenizer* t, void* ctx, int flags, const char* text, int n,
             int (*token)(void*, int, const char*, int, int, int)) {
  if (text == nullptr || n <= 0) return SQLITE_OK;
  const std::string_view in(text, static_cast<size_t>(n));
  if ((flags & FTS5_TOKENIZE_QUERY) != 0) {
    return token(ctx, 0, text, n, 0, n);
  }
  try {
    const auto* inst = reinterpret_cast<TokenizerInstance*>(t);
    const Analysis a = inst->analyzer->Analyze(in);
    for (const Token& tok : a.tokens) {
      const int rc = token(ctx, 0, tok.text.data(), static_cast<int>(tok.text.size()),
                           static_cast<int>(tok.begin), static_cast<int>(tok.end));
      if (rc != SQLITE_OK) return rc;
    }
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

fts5_api* Fts5Api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) return nullptr;
  sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return api;
}

}  // namespace

const std::shared_ptr<const Analyzer>& Fts5Analyzer() {
  static const std::shared_ptr<const Analyzer> analyzer = [] {
    auto lexicon = std::make_shared<Lexicon>();
    for (const auto& [variant, canonical] : ColloquialSynonyms()) {
      lexicon->AddSynonym(FromUtf8(variant), FromUtf8(canonical));
    }
    return std::make_shared<const Analyzer>(AnalyzerOptions{}, std::move(lexicon));
  }();
  return analyzer;
}

Status RegisterKefuZhTokenizer(sqlite3* db) {
  fts5_api* api = Fts5Api(db);
  if (api == nullptr) return Unavailable("SQLite has no FTS5 (cannot register kefu_zh)");
  static fts5_tokenizer tokenizer = {Create, Delete, Tokenize};
  const int rc = api->xCreateTokenizer(api, kTokenizerName, nullptr, &tokenizer, nullptr);
  if (rc != SQLITE_OK) return Internal(std::string("registering kefu_zh: ") + sqlite3_errstr(rc));
  return Status::Ok();
}

std::function<Status(sqlite3*)> KefuZhConnectionInitializer() {
  return RegisterKefuZhTokenizer;
}

std::string Fts5MatchExpression(std::string_view query) {
  const Analysis a = Fts5Analyzer()->Analyze(TruncateUtf8(query, 1024));
  std::set<std::string> seen;
  std::string out;
  for (const Token& t : a.tokens) {
    if (!seen.insert(t.text).second) continue;
    if (!out.empty()) out += " OR ";
    out += '"';
    for (char c : t.text) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace kefu::knowledge
