#include "knowledge/sqlite_faq_store.h"

#include <nlohmann/json.hpp>

#include "knowledge/fts5_faq_index.h"
#include "knowledge/fts5_tokenizer.h"
#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

constexpr const char* kMigration1 = R"sql(
CREATE TABLE knowledge_faqs (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  similar_json TEXT NOT NULL DEFAULT '[]',
  answers_by_channel_json TEXT NOT NULL DEFAULT '{}',
  category TEXT NOT NULL DEFAULT '',
  tags_json TEXT NOT NULL DEFAULT '[]',
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX knowledge_faqs_category ON knowledge_faqs(category);
CREATE VIRTUAL TABLE knowledge_faq_fts USING fts5(faq_id UNINDEXED, question, tokenize = 'kefu_zh');
CREATE TABLE knowledge_dictionary (word TEXT PRIMARY KEY);
CREATE TABLE knowledge_synonyms (variant TEXT PRIMARY KEY, canonical TEXT NOT NULL);
)sql";

// FTS5 cannot index faq_id (UNINDEXED), so deleting a FAQ's rows scanned the whole table: map
// question rows to FAQs in an indexed side table (the FTS5 rowid is the question rowid).
constexpr const char* kMigration2 = R"sql(
CREATE TABLE knowledge_faq_questions (rowid INTEGER PRIMARY KEY, faq_id TEXT NOT NULL);
CREATE INDEX knowledge_faq_questions_faq ON knowledge_faq_questions(faq_id);
INSERT INTO knowledge_faq_questions(rowid, faq_id) SELECT rowid, faq_id FROM knowledge_faq_fts;
)sql";

// Every change of the FAQ base or the admin lexicon, by kefud or kefuctl, bumps one counter, so
// a running kefud can tell that its matcher is stale without comparing tables.
constexpr const char* kMigration3 = R"sql(
CREATE TABLE knowledge_generation (id INTEGER PRIMARY KEY CHECK (id = 1),
                                   generation INTEGER NOT NULL);
INSERT INTO knowledge_generation(id, generation) VALUES (1, 0);
CREATE TRIGGER knowledge_faqs_insert_gen AFTER INSERT ON knowledge_faqs BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER knowledge_faqs_update_gen AFTER UPDATE ON knowledge_faqs BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER knowledge_faqs_delete_gen AFTER DELETE ON knowledge_faqs BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER knowledge_dictionary_insert_gen AFTER INSERT ON knowledge_dictionary BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER knowledge_dictionary_delete_gen AFTER DELETE ON knowledge_dictionary BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER knowledge_synonyms_insert_gen AFTER INSERT ON knowledge_synonyms BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER knowledge_synonyms_update_gen AFTER UPDATE ON knowledge_synonyms BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER knowledge_synonyms_delete_gen AFTER DELETE ON knowledge_synonyms BEGIN
  UPDATE knowledge_generation SET generation = generation + 1 WHERE id = 1; END;
)sql";

constexpr const char* kInsertFaq =
    "INSERT INTO knowledge_faqs(id, question, answer, similar_json, answers_by_channel_json, "
    "category, tags_json, enabled, created_at_ms, updated_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kUpdateFaq =
    "UPDATE knowledge_faqs SET question = ?2, answer = ?3, similar_json = ?4, "
    "answers_by_channel_json = ?5, category = ?6, tags_json = ?7, enabled = ?8, "
    "updated_at_ms = ?10 WHERE id = ?1";
constexpr const char* kSelectFaq =
    "SELECT id, question, answer, similar_json, answers_by_channel_json, category, tags_json, "
    "enabled, created_at_ms, updated_at_ms FROM knowledge_faqs WHERE id = ?1";
constexpr const char* kDeleteFaq = "DELETE FROM knowledge_faqs WHERE id = ?1";
constexpr const char* kNextRowId = "SELECT coalesce(max(rowid), 0) + 1 FROM knowledge_faqs";
constexpr const char* kIdExists = "SELECT 1 FROM knowledge_faqs WHERE id = ?1";
constexpr const char* kSelectAll =
    "SELECT id, question, answer, similar_json, answers_by_channel_json, category, tags_json, "
    "enabled, created_at_ms, updated_at_ms FROM knowledge_faqs ORDER BY rowid";
// List filters: ?1 category ('' = any), ?2 tag ('' = any), ?3 enabled (NULL = any), ?4 limit,
// ?5 offset; the text variants add ?6, an FTS5 match expression.
constexpr const char* kListAll =
    "SELECT f.id, f.question, f.answer, f.similar_json, f.answers_by_channel_json, f.category, "
    "f.tags_json, f.enabled, f.created_at_ms, f.updated_at_ms FROM knowledge_faqs f WHERE "
    "(?1 = '' OR f.category = ?1) AND (?2 = '' OR EXISTS (SELECT 1 FROM json_each(f.tags_json) "
    "WHERE value = ?2)) AND (?3 IS NULL OR f.enabled = ?3) ORDER BY f.rowid LIMIT ?4 OFFSET ?5";
constexpr const char* kCountAll =
    "SELECT count(*) FROM knowledge_faqs f WHERE "
    "(?1 = '' OR f.category = ?1) AND (?2 = '' OR EXISTS (SELECT 1 FROM json_each(f.tags_json) "
    "WHERE value = ?2)) AND (?3 IS NULL OR f.enabled = ?3)"
    " AND ?4 >= 0 AND ?5 >= 0";
constexpr const char* kListText =
    "SELECT f.id, f.question, f.answer, f.similar_json, f.answers_by_channel_json, f.category, "
    "f.tags_json, f.enabled, f.created_at_ms, f.updated_at_ms FROM knowledge_faqs f JOIN "
    "(SELECT faq_id, min(rank) AS r FROM knowledge_faq_fts WHERE knowledge_faq_fts MATCH ?6 "
    "GROUP BY faq_id) m ON m.faq_id = f.id WHERE "
    "(?1 = '' OR f.category = ?1) AND (?2 = '' OR EXISTS (SELECT 1 FROM json_each(f.tags_json) "
    "WHERE value = ?2)) AND (?3 IS NULL OR f.enabled = ?3) ORDER BY m.r, f.rowid "
    "LIMIT ?4 OFFSET ?5";
constexpr const char* kCountText =
    "SELECT count(*) FROM knowledge_faqs f JOIN (SELECT DISTINCT faq_id FROM knowledge_faq_fts "
    "WHERE knowledge_faq_fts MATCH ?6) m ON m.faq_id = f.id WHERE "
    "(?1 = '' OR f.category = ?1) AND (?2 = '' OR EXISTS (SELECT 1 FROM json_each(f.tags_json) "
    "WHERE value = ?2)) AND (?3 IS NULL OR f.enabled = ?3) AND ?4 >= 0 AND ?5 >= 0";
constexpr const char* kInsertWord = "INSERT OR IGNORE INTO knowledge_dictionary(word) VALUES (?1)";
constexpr const char* kUpsertSynonym =
    "INSERT INTO knowledge_synonyms(variant, canonical) VALUES (?1, ?2) "
    "ON CONFLICT(variant) DO UPDATE SET canonical = excluded.canonical";
constexpr const char* kDeleteWord = "DELETE FROM knowledge_dictionary WHERE word = ?1";
constexpr const char* kDeleteSynonym = "DELETE FROM knowledge_synonyms WHERE variant = ?1";
constexpr const char* kSelectGeneration =
    "SELECT generation FROM knowledge_generation WHERE id = 1";
constexpr const char* kSelectWords = "SELECT word FROM knowledge_dictionary ORDER BY word";
constexpr const char* kSelectSynonyms =
    "SELECT variant, canonical FROM knowledge_synonyms ORDER BY variant";

Faq ReadFaq(storage::Statement& s) {
  Faq f;
  f.id = s.ColumnText(0);
  f.question = s.ColumnText(1);
  f.answer = s.ColumnText(2);
  auto parse = [](const std::string& text) {
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  };
  if (auto j = parse(s.ColumnText(3)); j.is_array()) {
    for (const auto& e : j) {
      if (e.is_string()) f.similar_questions.push_back(e.get<std::string>());
    }
  }
  if (auto j = parse(s.ColumnText(4)); j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (v.is_string()) f.answers_by_channel[k] = v.get<std::string>();
    }
  }
  f.category = s.ColumnText(5);
  if (auto j = parse(s.ColumnText(6)); j.is_array()) {
    for (const auto& e : j) {
      if (e.is_string()) f.tags.push_back(e.get<std::string>());
    }
  }
  f.enabled = s.ColumnInt64(7) != 0;
  f.created_at_ms = s.ColumnInt64(8);
  f.updated_at_ms = s.ColumnInt64(9);
  return f;
}

Status BindFaq(storage::Statement& s, const Faq& f) {
  return s.BindAll(f.id, f.question, f.answer, nlohmann::json(f.similar_questions).dump(),
                   nlohmann::json(f.answers_by_channel).dump(), f.category,
                   nlohmann::json(f.tags).dump(), f.enabled ? int64_t{1} : int64_t{0},
                   f.created_at_ms, f.updated_at_ms);
}

Status BindFilter(storage::Statement& s, const FaqListQuery& q) {
  KEFU_RETURN_IF_ERROR(s.Bind(1, q.category));
  KEFU_RETURN_IF_ERROR(s.Bind(2, q.tag));
  if (q.enabled) {
    KEFU_RETURN_IF_ERROR(s.Bind(3, *q.enabled ? int64_t{1} : int64_t{0}));
  } else {
    KEFU_RETURN_IF_ERROR(s.Bind(3, nullptr));
  }
  KEFU_RETURN_IF_ERROR(s.Bind(4, q.limit));
  return s.Bind(5, q.offset);
}

}  // namespace

std::vector<storage::Migration> KnowledgeMigrations() {
  return {{1, "faqs, kefu_zh fts, dictionary, synonyms", kMigration1},
          {2, "question rows indexed by faq id", kMigration2},
          {3, "generation counter bumped by triggers", kMigration3}};
}

int64_t SqliteFaqStore::NowMs() const {
  return clock_.NowUnixMs();
}

Result<Faq> SqliteFaqStore::Create(storage::Database& db, Faq faq) {
  KEFU_RETURN_IF_ERROR(ValidateFaq(faq));
  if (faq.id.empty()) {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * next, db.Prepare(kNextRowId));
    KEFU_ASSIGN_OR_RETURN(bool row, next->Step());
    int64_t n = row ? next->ColumnInt64(0) : 1;
    next->Reset();
    KEFU_ASSIGN_OR_RETURN(storage::Statement * exists, db.Prepare(kIdExists));
    while (true) {
      faq.id = "faq-" + std::to_string(n++);
      KEFU_RETURN_IF_ERROR(exists->BindAll(faq.id));
      KEFU_ASSIGN_OR_RETURN(bool taken, exists->Step());
      exists->Reset();
      if (!taken) break;
    }
  }
  faq.created_at_ms = faq.updated_at_ms = NowMs();
  KEFU_ASSIGN_OR_RETURN(storage::Statement * insert, db.Prepare(kInsertFaq));
  KEFU_RETURN_IF_ERROR(BindFaq(*insert, faq));
  if (Status s = insert->Run(); !s.ok()) {
    if (s.code() == StatusCode::kAlreadyExists) return AlreadyExists("faq " + faq.id + " exists");
    return s;
  }
  KEFU_RETURN_IF_ERROR(Fts5FaqIndex(db).Upsert(faq));
  return faq;
}

Result<Faq> SqliteFaqStore::Update(storage::Database& db, Faq faq) {
  KEFU_RETURN_IF_ERROR(ValidateFaq(faq));
  if (faq.id.empty()) return InvalidArgument("id: required");
  KEFU_ASSIGN_OR_RETURN(Faq old, Get(db, faq.id));
  faq.created_at_ms = old.created_at_ms;
  faq.updated_at_ms = NowMs();
  KEFU_ASSIGN_OR_RETURN(storage::Statement * update, db.Prepare(kUpdateFaq));
  KEFU_RETURN_IF_ERROR(BindFaq(*update, faq));
  KEFU_RETURN_IF_ERROR(update->Run());
  KEFU_RETURN_IF_ERROR(Fts5FaqIndex(db).Upsert(faq));
  return faq;
}

Result<Faq> SqliteFaqStore::Get(storage::Database& db, const std::string& id) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kSelectFaq));
  KEFU_RETURN_IF_ERROR(s->BindAll(id));
  KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    s->Reset();
    return NotFound("faq " + id + " not found");
  }
  Faq f = ReadFaq(*s);
  s->Reset();
  return f;
}

Status SqliteFaqStore::Delete(storage::Database& db, const std::string& id) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kDeleteFaq));
  KEFU_RETURN_IF_ERROR(s->BindAll(id));
  KEFU_RETURN_IF_ERROR(s->Run());
  if (db.Changes() == 0) return NotFound("faq " + id + " not found");
  return Fts5FaqIndex(db).Remove(id);
}

Result<FaqPage> SqliteFaqStore::List(storage::Database& db, const FaqListQuery& query) {
  if (query.limit < 1 || query.limit > 500) return InvalidArgument("limit: must be 1..500");
  if (query.offset < 0) return InvalidArgument("offset: must be >= 0");
  FaqPage page;
  std::string expr;
  const bool text = query.text.find_first_not_of(" \t\r\n") != std::string::npos;
  if (text) {
    expr = Fts5MatchExpression(query.text);
    if (expr.empty()) return page;  // e.g. emoji only: nothing can match
  }
  KEFU_ASSIGN_OR_RETURN(storage::Statement * rows, db.Prepare(text ? kListText : kListAll));
  KEFU_RETURN_IF_ERROR(BindFilter(*rows, query));
  if (text) KEFU_RETURN_IF_ERROR(rows->Bind(6, expr));
  while (true) {
    Result<bool> row = rows->Step();
    if (!row.ok()) {
      rows->Reset();
      return row.status();
    }
    if (!*row) break;
    page.faqs.push_back(ReadFaq(*rows));
  }
  rows->Reset();
  KEFU_ASSIGN_OR_RETURN(storage::Statement * count, db.Prepare(text ? kCountText : kCountAll));
  KEFU_RETURN_IF_ERROR(BindFilter(*count, query));
  if (text) KEFU_RETURN_IF_ERROR(count->Bind(6, expr));
  KEFU_ASSIGN_OR_RETURN(bool has, count->Step());
  page.total = has ? count->ColumnInt64(0) : 0;
  count->Reset();
  return page;
}

Result<Faq> SqliteFaqStore::AddSimilarQuestion(storage::Database& db, const std::string& id,
                                               const std::string& question) {
  if (question.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("question: must not be empty");
  }
  KEFU_ASSIGN_OR_RETURN(Faq faq, Get(db, id));
  const std::string key = NormalizeToUtf8(question);
  if (NormalizeToUtf8(faq.question) == key) return faq;
  for (const std::string& q : faq.similar_questions) {
    if (NormalizeToUtf8(q) == key) return faq;
  }
  faq.similar_questions.push_back(question);
  return Update(db, std::move(faq));
}

Result<std::vector<Faq>> SqliteFaqStore::LoadAll(storage::Database& db) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kSelectAll));
  std::vector<Faq> out;
  while (true) {
    Result<bool> row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back(ReadFaq(*s));
  }
  s->Reset();
  return out;
}

Status SqliteFaqStore::AddDictionaryWord(storage::Database& db, const std::string& word) {
  const std::string w = NormalizeToUtf8(word);
  if (FromUtf8(w).size() < 2) return InvalidArgument("word: needs at least 2 characters");
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kInsertWord));
  KEFU_RETURN_IF_ERROR(s->BindAll(w));
  return s->Run();
}

Status SqliteFaqStore::AddSynonym(storage::Database& db, const std::string& variant,
                                  const std::string& canonical) {
  const std::string v = NormalizeToUtf8(variant);
  const std::string c = NormalizeToUtf8(canonical);
  if (v.empty() || c.empty()) return InvalidArgument("synonym: variant and canonical required");
  if (v == c) return InvalidArgument("synonym: variant equals canonical");
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kUpsertSynonym));
  KEFU_RETURN_IF_ERROR(s->BindAll(v, c));
  return s->Run();
}

Result<std::vector<std::string>> SqliteFaqStore::DictionaryWords(storage::Database& db) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kSelectWords));
  std::vector<std::string> out;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back(s->ColumnText(0));
  }
  s->Reset();
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteFaqStore::Synonyms(
    storage::Database& db) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kSelectSynonyms));
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.emplace_back(s->ColumnText(0), s->ColumnText(1));
  }
  s->Reset();
  return out;
}

Status SqliteFaqStore::RemoveDictionaryWord(storage::Database& db, const std::string& word) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kDeleteWord));
  KEFU_RETURN_IF_ERROR(s->BindAll(NormalizeToUtf8(word)));
  KEFU_RETURN_IF_ERROR(s->Run());
  if (db.Changes() == 0) return NotFound("word: " + word + " is not in the dictionary");
  return Status::Ok();
}

Status SqliteFaqStore::RemoveSynonym(storage::Database& db, const std::string& variant) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kDeleteSynonym));
  KEFU_RETURN_IF_ERROR(s->BindAll(NormalizeToUtf8(variant)));
  KEFU_RETURN_IF_ERROR(s->Run());
  if (db.Changes() == 0) return NotFound("variant: " + variant + " has no synonym");
  return Status::Ok();
}

Result<int64_t> SqliteFaqStore::Generation(storage::Database& db) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db.Prepare(kSelectGeneration));
  KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
  const int64_t generation = row ? s->ColumnInt64(0) : 0;
  s->Reset();
  return generation;
}

}  // namespace kefu::knowledge
