#include "knowledge/sqlite_faq_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "knowledge/fts5_faq_index.h"
#include "knowledge/fts5_tokenizer.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace kefu::knowledge {
namespace {

class SqliteFaqStoreTest : public ::testing::Test {
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

  Faq Make(std::string question, std::string answer = "答案") {
    Faq f;
    f.question = std::move(question);
    f.answer = std::move(answer);
    return f;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  SqliteFaqStore store_{clock_};
  std::unique_ptr<storage::Database> db_;
};

TEST_F(SqliteFaqStoreTest, CreateGeneratesIdAndTimestampsAndGetReturnsIt) {
  Faq in = Make("怎么申请退款");
  in.similar_questions = {"退钱怎么退"};
  in.tags = {"售后"};
  in.category = "退款";
  in.answers_by_channel["dingtalk"] = "**订单页**";
  auto created = store_.Create(*db_, in);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->id, "faq-1");
  EXPECT_EQ(created->created_at_ms, clock_.NowUnixMs());
  auto got = store_.Get(*db_, "faq-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *created);
}

TEST_F(SqliteFaqStoreTest, DuplicateIdIsAlreadyExistsAndUnknownIdIsNotFound) {
  Faq f = Make("发票怎么开");
  f.id = "inv-1";
  ASSERT_TRUE(store_.Create(*db_, f).ok());
  EXPECT_EQ(store_.Create(*db_, f).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_.Get(*db_, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_.Delete(*db_, "nope").code(), StatusCode::kNotFound);
  Faq ghost = Make("x");
  ghost.id = "nope";
  EXPECT_EQ(store_.Update(*db_, ghost).status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteFaqStoreTest, EmptyQuestionIsRejectedAndNothingIsWritten) {
  auto r = store_.Create(*db_, Make("   "));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("question"), std::string::npos);
  EXPECT_EQ(store_.List(*db_, {})->total, 0);
}

TEST_F(SqliteFaqStoreTest, TextSearchUsesKefuZhAcrossTraditionalAndSimilarQuestions) {
  Faq a = Make("怎么申请退款");
  a.similar_questions = {"钱能退回来吗"};
  ASSERT_TRUE(store_.Create(*db_, a).ok());
  ASSERT_TRUE(store_.Create(*db_, Make("发票怎么开")).ok());
  FaqListQuery q;
  q.text = "申請退款";  // traditional
  auto page = store_.List(*db_, q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_GE(page->faqs.size(), 1u);
  EXPECT_EQ(page->faqs[0].id, "faq-1");
  q.text = "退回来";
  page = store_.List(*db_, q);
  ASSERT_TRUE(page.ok());
  ASSERT_GE(page->faqs.size(), 1u);
  EXPECT_EQ(page->faqs[0].id, "faq-1");
  q.text = "😀";
  EXPECT_TRUE(store_.List(*db_, q)->faqs.empty());
}

TEST_F(SqliteFaqStoreTest, ListFiltersAndPages) {
  for (int i = 0; i < 5; ++i) {
    Faq f = Make("问题" + std::to_string(i));
    f.category = i % 2 == 0 ? "even" : "odd";
    f.tags = {i < 2 ? "new" : "old"};
    ASSERT_TRUE(store_.Create(*db_, f).ok());
  }
  FaqListQuery q;
  q.limit = 2;
  auto p = store_.List(*db_, q);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->total, 5);
  ASSERT_EQ(p->faqs.size(), 2u);
  q.offset = 4;
  EXPECT_EQ(store_.List(*db_, q)->faqs.size(), 1u);
  FaqListQuery c;
  c.category = "even";
  EXPECT_EQ(store_.List(*db_, c)->total, 3);
  FaqListQuery t;
  t.tag = "new";
  EXPECT_EQ(store_.List(*db_, t)->total, 2);
  FaqListQuery bad;
  bad.limit = 0;
  EXPECT_EQ(store_.List(*db_, bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteFaqStoreTest, UpdateDisableAndDeleteMaintainTheFtsIndex) {
  auto f = store_.Create(*db_, Make("会员怎么续费"));
  ASSERT_TRUE(f.ok());
  Fts5FaqIndex index(*db_);
  ASSERT_EQ(index.Search("会员续费", 5)->size(), 1u);
  Faq off = *f;
  off.enabled = false;
  clock_.Advance(std::chrono::seconds(5));
  auto updated = store_.Update(*db_, off);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->created_at_ms + 5000, updated->updated_at_ms);
  EXPECT_TRUE(index.Search("会员续费", 5)->empty());
  off.enabled = true;
  ASSERT_TRUE(store_.Update(*db_, off).ok());
  EXPECT_EQ(index.Search("会员续费", 5)->size(), 1u);
  ASSERT_TRUE(store_.Delete(*db_, f->id).ok());
  EXPECT_TRUE(index.Search("会员续费", 5)->empty());
}

TEST_F(SqliteFaqStoreTest, AddSimilarQuestionAppendsOnceAfterNormalisation) {
  auto f = store_.Create(*db_, Make("怎么改地址"));
  ASSERT_TRUE(f.ok());
  auto a = store_.AddSimilarQuestion(*db_, f->id, "收货地址能改吗");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->similar_questions.size(), 1u);
  auto b = store_.AddSimilarQuestion(*db_, f->id, "收貨地址能改嗎");  // same after T->S
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->similar_questions.size(), 1u);
  EXPECT_EQ(store_.AddSimilarQuestion(*db_, "missing", "x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Fts5FaqIndex(*db_).Search("收货地址", 5)->size(), 2u);  // standard + similar rows
}

TEST_F(SqliteFaqStoreTest, DictionaryAndSynonymsRoundTrip) {
  ASSERT_TRUE(store_.AddDictionaryWord(*db_, "积分卡").ok());
  EXPECT_EQ(store_.AddDictionaryWord(*db_, "卡").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_.AddSynonym(*db_, "人工", "客服").ok());
  ASSERT_TRUE(store_.AddSynonym(*db_, "人工", "人工客服").ok());
  EXPECT_EQ(*store_.DictionaryWords(*db_), std::vector<std::string>{"积分卡"});
  auto syn = store_.Synonyms(*db_);
  ASSERT_EQ(syn->size(), 1u);
  EXPECT_EQ((*syn)[0].second, "人工客服");
}

TEST_F(SqliteFaqStoreTest, MigrationsAreIdempotent) {
  EXPECT_TRUE(storage::ApplyMigrations(*db_, "knowledge", KnowledgeMigrations()).ok());
}

}  // namespace
}  // namespace kefu::knowledge
