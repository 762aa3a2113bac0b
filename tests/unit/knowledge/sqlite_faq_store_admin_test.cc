// SqliteFaqStore: removing admin lexicon entries and the generation counter that tells a running
// kefud its matcher is stale.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "knowledge/fts5_tokenizer.h"
#include "knowledge/sqlite_faq_store.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace kefu::knowledge {
namespace {

class SqliteFaqStoreAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions o;
    o.path = dir_.File("kefu.db");
    o.connection_initializers.push_back(KefuZhConnectionInitializer());
    auto db = storage::Database::Open(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(storage::ApplyMigrations(*db_, "knowledge", KnowledgeMigrations()).ok());
  }

  int64_t Generation() {
    auto g = store_.Generation(*db_);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : -1;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  SqliteFaqStore store_{clock_};
  std::unique_ptr<storage::Database> db_;
};

TEST_F(SqliteFaqStoreAdminTest, EveryFaqAndLexiconChangeBumpsTheGeneration) {
  EXPECT_EQ(Generation(), 0);
  Faq f;
  f.question = "怎么申请退款";
  f.answer = "在订单页申请。";
  auto created = store_.Create(*db_, f);
  ASSERT_TRUE(created.ok());
  const int64_t after_create = Generation();
  EXPECT_GT(after_create, 0);

  created->answer = "在订单详情页申请。";
  ASSERT_TRUE(store_.Update(*db_, *created).ok());
  const int64_t after_update = Generation();
  EXPECT_GT(after_update, after_create);

  ASSERT_TRUE(store_.AddDictionaryWord(*db_, "退款单").ok());
  const int64_t after_word = Generation();
  EXPECT_GT(after_word, after_update);
  ASSERT_TRUE(store_.AddDictionaryWord(*db_, "退款单").ok());  // already there: no change
  EXPECT_EQ(Generation(), after_word);

  ASSERT_TRUE(store_.AddSynonym(*db_, "退钱", "退款").ok());
  const int64_t after_synonym = Generation();
  EXPECT_GT(after_synonym, after_word);
  ASSERT_TRUE(store_.AddSynonym(*db_, "退钱", "退货").ok());  // new canonical
  EXPECT_GT(Generation(), after_synonym);

  const int64_t before_removals = Generation();
  ASSERT_TRUE(store_.RemoveSynonym(*db_, "退钱").ok());
  ASSERT_TRUE(store_.RemoveDictionaryWord(*db_, "退款单").ok());
  ASSERT_TRUE(store_.Delete(*db_, created->id).ok());
  EXPECT_GE(Generation(), before_removals + 3);
}

TEST_F(SqliteFaqStoreAdminTest, RemovingAbsentEntriesIsNotFoundAndChangesNothing) {
  const int64_t g = Generation();
  EXPECT_EQ(store_.RemoveDictionaryWord(*db_, "花呗").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_.RemoveSynonym(*db_, "退钱").code(), StatusCode::kNotFound);
  EXPECT_EQ(Generation(), g);
}

TEST_F(SqliteFaqStoreAdminTest, RemovalNormalisesLikeAdd) {
  // Added in traditional / full-width form, removed in simplified form (and vice versa).
  ASSERT_TRUE(store_.AddDictionaryWord(*db_, "餘額寶").ok());
  auto words = store_.DictionaryWords(*db_);
  ASSERT_TRUE(words.ok());
  ASSERT_EQ(words->size(), 1u);
  EXPECT_EQ(words->front(), "余额宝");
  EXPECT_TRUE(store_.RemoveDictionaryWord(*db_, "余额宝").ok());

  ASSERT_TRUE(store_.AddSynonym(*db_, "ＡＰＰ", "客户端").ok());
  EXPECT_TRUE(store_.RemoveSynonym(*db_, "app").ok());
  auto synonyms = store_.Synonyms(*db_);
  ASSERT_TRUE(synonyms.ok());
  EXPECT_TRUE(synonyms->empty());
}

}  // namespace
}  // namespace kefu::knowledge
