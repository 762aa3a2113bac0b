// SqliteFaqStore: FaqStore over SQLite tables knowledge_faqs, knowledge_faq_fts (FTS5, kefu_zh),
// knowledge_dictionary and knowledge_synonyms (migrations: KnowledgeMigrations(), module
// "knowledge"); triggers on those three tables bump knowledge_generation (Generation()). Every
// connection it is used on must have kefu_zh registered (KefuZhConnectionInitializer()).
//
// Thread-safe as far as its own state goes (only a const Clock&); each call uses the connection
// passed in.
#pragma once

#include <vector>

#include "core/clock.h"
#include "knowledge/faq_store.h"
#include "storage/migrations.h"

namespace kefu::knowledge {

// The knowledge module's numbered migrations (apply with storage::ApplyMigrations(db,
// "knowledge", KnowledgeMigrations())).
std::vector<storage::Migration> KnowledgeMigrations();

class SqliteFaqStore final : public FaqStore {
 public:
  explicit SqliteFaqStore(const Clock& clock) : clock_(clock) {}

  Result<Faq> Create(storage::Database& db, Faq faq) override;
  Result<Faq> Update(storage::Database& db, Faq faq) override;
  Result<Faq> Get(storage::Database& db, const std::string& id) override;
  Status Delete(storage::Database& db, const std::string& id) override;
  Result<FaqPage> List(storage::Database& db, const FaqListQuery& query) override;
  Result<Faq> AddSimilarQuestion(storage::Database& db, const std::string& id,
                                 const std::string& question) override;
  Result<std::vector<Faq>> LoadAll(storage::Database& db) override;
  Status AddDictionaryWord(storage::Database& db, const std::string& word) override;
  Status AddSynonym(storage::Database& db, const std::string& variant,
                    const std::string& canonical) override;
  Result<std::vector<std::string>> DictionaryWords(storage::Database& db) override;
  Result<std::vector<std::pair<std::string, std::string>>> Synonyms(storage::Database& db) override;
  Status RemoveDictionaryWord(storage::Database& db, const std::string& word) override;
  Status RemoveSynonym(storage::Database& db, const std::string& variant) override;
  Result<int64_t> Generation(storage::Database& db) override;

 private:
  int64_t NowMs() const;
  const Clock& clock_;
};

}  // namespace kefu::knowledge
