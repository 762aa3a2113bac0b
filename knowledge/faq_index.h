// FaqIndex: the port for lexical candidate retrieval over FAQ questions (standard question and
// every similar question of each enabled FAQ). Adapters: MemoryFaqIndex (memory_faq_index.h, the
// matcher's hot path) and Fts5FaqIndex (fts5_faq_index.h, SQLite FTS5 with the kefu_zh
// tokenizer). Both score with BM25 over the same kefu_zh tokens, OR semantics.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "knowledge/faq.h"

namespace kefu::knowledge {

struct IndexHit {
  std::string faq_id;
  std::string question;  // the indexed question text that matched (standard or similar)
  double bm25 = 0;       // higher is better
};

class FaqIndex {
 public:
  virtual ~FaqIndex() = default;
  // Indexes all questions of `faq`, replacing what was indexed for faq.id. A disabled FAQ is
  // removed instead. kInvalidArgument when faq.id is empty.
  virtual Status Upsert(const Faq& faq) = 0;
  // Removes faq_id's questions; ok when it was not indexed.
  virtual Status Remove(std::string_view faq_id) = 0;
  // The best `k` questions for `query` by BM25 (ties by insertion order); empty for a query
  // with no tokens.
  virtual Result<std::vector<IndexHit>> Search(std::string_view query, size_t k) const = 0;
};

}  // namespace kefu::knowledge
