// Fts5FaqIndex: FaqIndex over the SQLite FTS5 table knowledge_faq_fts (tokenizer kefu_zh), one
// row per question of each enabled FAQ. Used by the store (list search, persistence) and as the
// plain-BM25 baseline in benchmarks; the matcher's hot path is MemoryFaqIndex over the same tokens.
//
// Bound to one connection (`db` must have kefu_zh registered and the knowledge migrations
// applied). Writes must run inside the caller's transaction (e.g. a WriterExecutor job).
#pragma once

#include "knowledge/faq_index.h"
#include "storage/database.h"

namespace kefu::knowledge {

class Fts5FaqIndex final : public FaqIndex {
 public:
  explicit Fts5FaqIndex(storage::Database& db) : db_(db) {}

  Status Upsert(const Faq& faq) override;
  Status Remove(std::string_view faq_id) override;
  // BM25 (FTS5 rank) top k; kInternal on SQLite errors.
  Result<std::vector<IndexHit>> Search(std::string_view query, size_t k) const override;

 private:
  storage::Database& db_;
};

}  // namespace kefu::knowledge
