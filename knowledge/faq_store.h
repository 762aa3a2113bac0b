// FaqStore: the persistence port of the FAQ base (adapter: SqliteFaqStore).
//
// Every method works on the connection it is given: writes must run on the writer connection
// (inside a WriterExecutor job or a storage::Transaction, so the FAQ row and its index rows
// commit together); reads on any connection. Validation failures are kInvalidArgument naming
// the field; an unknown id is kNotFound; creating an existing id is kAlreadyExists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "knowledge/faq.h"
#include "storage/database.h"

namespace kefu::knowledge {

struct FaqListQuery {
  std::string text;      // full-text search (kefu_zh BM25 over all questions); empty = all
  std::string category;  // exact category; empty = any
  std::string tag;       // FAQs carrying this tag; empty = any
  std::optional<bool> enabled;
  int64_t limit = 50;  // 1..500
  int64_t offset = 0;
};

struct FaqPage {
  std::vector<Faq> faqs;
  int64_t total = 0;  // matching FAQs before paging
};

class FaqStore {
 public:
  virtual ~FaqStore() = default;
  // Stores a new FAQ (id generated as "faq-<n>" when empty); returns it with timestamps.
  virtual Result<Faq> Create(storage::Database& db, Faq faq) = 0;
  // Replaces every field of an existing FAQ (created_at kept).
  virtual Result<Faq> Update(storage::Database& db, Faq faq) = 0;
  virtual Result<Faq> Get(storage::Database& db, const std::string& id) = 0;
  virtual Status Delete(storage::Database& db, const std::string& id) = 0;
  virtual Result<FaqPage> List(storage::Database& db, const FaqListQuery& query) = 0;
  // Appends `question` to the FAQ's similar questions (no-op if already present, compared after
  // normalisation); returns the updated FAQ.
  virtual Result<Faq> AddSimilarQuestion(storage::Database& db, const std::string& id,
                                         const std::string& question) = 0;
  // Every FAQ (enabled or not), in id order: the matcher is built from this.
  virtual Result<std::vector<Faq>> LoadAll(storage::Database& db) = 0;

  // Admin lexicon: dictionary words and synonyms (variant -> canonical).
  virtual Status AddDictionaryWord(storage::Database& db, const std::string& word) = 0;
  virtual Status AddSynonym(storage::Database& db, const std::string& variant,
                            const std::string& canonical) = 0;
  virtual Result<std::vector<std::string>> DictionaryWords(storage::Database& db) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> Synonyms(
      storage::Database& db) = 0;
  // Removes a dictionary word / the synonym of `variant` (both normalised first like on add);
  // kNotFound when absent.
  virtual Status RemoveDictionaryWord(storage::Database& db, const std::string& word) = 0;
  virtual Status RemoveSynonym(storage::Database& db, const std::string& variant) = 0;

  // A counter bumped by every committed change of a FAQ, dictionary word or synonym, whichever
  // process made it: a matcher built from the state at generation G is stale when the stored
  // generation differs from G.
  virtual Result<int64_t> Generation(storage::Database& db) = 0;
};

}  // namespace kefu::knowledge
