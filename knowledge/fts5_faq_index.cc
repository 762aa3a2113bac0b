#include "knowledge/fts5_faq_index.h"

#include "knowledge/fts5_tokenizer.h"

namespace kefu::knowledge {
namespace {

constexpr const char* kDeleteFtsRows =
    "DELETE FROM knowledge_faq_fts WHERE rowid IN "
    "(SELECT rowid FROM knowledge_faq_questions WHERE faq_id = ?1)";
constexpr const char* kDeleteQuestionRows = "DELETE FROM knowledge_faq_questions WHERE faq_id = ?1";
constexpr const char* kInsertQuestionRow =
    "INSERT INTO knowledge_faq_questions(faq_id) VALUES (?1)";
constexpr const char* kInsertQuestion =
    "INSERT INTO knowledge_faq_fts(rowid, faq_id, question) VALUES (?1, ?2, ?3)";
constexpr const char* kSearch =
    "SELECT faq_id, question, -rank FROM knowledge_faq_fts WHERE knowledge_faq_fts MATCH ?1 "
    "ORDER BY rank LIMIT ?2";

}  // namespace

Status Fts5FaqIndex::Upsert(const Faq& faq) {
  if (faq.id.empty()) return InvalidArgument("id: required to index a FAQ");
  KEFU_RETURN_IF_ERROR(Remove(faq.id));
  if (!faq.enabled) return Status::Ok();
  KEFU_ASSIGN_OR_RETURN(storage::Statement * row, db_.Prepare(kInsertQuestionRow));
  KEFU_ASSIGN_OR_RETURN(storage::Statement * insert, db_.Prepare(kInsertQuestion));
  auto add = [&](const std::string& q) -> Status {
    row->Reset();
    KEFU_RETURN_IF_ERROR(row->BindAll(faq.id));
    KEFU_RETURN_IF_ERROR(row->Run());
    insert->Reset();
    KEFU_RETURN_IF_ERROR(insert->BindAll(db_.LastInsertRowId(), faq.id, q));
    return insert->Run();
  };
  KEFU_RETURN_IF_ERROR(add(faq.question));
  for (const std::string& q : faq.similar_questions)
    KEFU_RETURN_IF_ERROR(add(q));
  return Status::Ok();
}

Status Fts5FaqIndex::Remove(std::string_view faq_id) {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * fts, db_.Prepare(kDeleteFtsRows));
  KEFU_RETURN_IF_ERROR(fts->BindAll(faq_id));
  KEFU_RETURN_IF_ERROR(fts->Run());
  KEFU_ASSIGN_OR_RETURN(storage::Statement * rows, db_.Prepare(kDeleteQuestionRows));
  KEFU_RETURN_IF_ERROR(rows->BindAll(faq_id));
  return rows->Run();
}

Result<std::vector<IndexHit>> Fts5FaqIndex::Search(std::string_view query, size_t k) const {
  std::vector<IndexHit> out;
  const std::string expr = Fts5MatchExpression(query);
  if (expr.empty() || k == 0) return out;
  KEFU_ASSIGN_OR_RETURN(storage::Statement * s, db_.Prepare(kSearch));
  KEFU_RETURN_IF_ERROR(s->BindAll(expr, static_cast<int64_t>(k)));
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back({s->ColumnText(0), s->ColumnText(1), s->ColumnDouble(2)});
  }
  s->Reset();
  return out;
}

}  // namespace kefu::knowledge
