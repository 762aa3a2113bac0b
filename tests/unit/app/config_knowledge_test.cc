#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config.h"

namespace kefu::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(KnowledgeConfig, AbsentSectionKeepsMatcherDefaults) {
  ConfigLoad load = LoadConfigFromString("");
  ASSERT_TRUE(load.ok());
  const knowledge::MatcherOptions defaults;
  const KnowledgeConfig& k = load.config.knowledge;
  EXPECT_EQ(k.matcher.candidates, defaults.candidates);
  EXPECT_EQ(k.matcher.answer_threshold, defaults.answer_threshold);
  EXPECT_EQ(k.matcher.suggest_threshold, defaults.suggest_threshold);
  EXPECT_EQ(k.matcher.analyzer.pinyin, defaults.analyzer.pinyin);
  EXPECT_EQ(k.matcher.max_query_bytes, defaults.max_query_bytes);
  EXPECT_EQ(k.refresh_interval, std::chrono::seconds(2));
}

TEST(KnowledgeConfig, ReadsEveryKnob) {
  ConfigLoad load = LoadConfigFromString(R"(
[knowledge]
candidates = 30
min_retrieval_idf = 2.5
evidence_coverage = 0.4
answer_threshold = 0.9
suggest_threshold = 0.3
pinyin = true
learn_vocabulary = false
colloquial_synonyms = false
max_query_bytes = "2KiB"
refresh_interval_s = 0.5
)");
  ASSERT_THAT(load.errors, IsEmpty());
  const knowledge::MatcherOptions& m = load.config.knowledge.matcher;
  EXPECT_EQ(m.candidates, 30u);
  EXPECT_DOUBLE_EQ(m.min_retrieval_idf, 2.5);
  EXPECT_DOUBLE_EQ(m.evidence_coverage, 0.4);
  EXPECT_DOUBLE_EQ(m.answer_threshold, 0.9);
  EXPECT_DOUBLE_EQ(m.suggest_threshold, 0.3);
  EXPECT_TRUE(m.analyzer.pinyin);
  EXPECT_FALSE(m.learn_vocabulary);
  EXPECT_FALSE(m.colloquial_synonyms);
  EXPECT_EQ(m.max_query_bytes, 2048u);
  EXPECT_EQ(load.config.knowledge.refresh_interval, std::chrono::milliseconds(500));
  // The fitted model is not configurable and keeps its defaults.
  EXPECT_EQ(m.rerank_weights, knowledge::MatcherOptions{}.rerank_weights);
}

TEST(KnowledgeConfig, ZeroRefreshIntervalTurnsTheCheckOff) {
  ConfigLoad load = LoadConfigFromString("[knowledge]\nrefresh_interval_s = 0\n");
  ASSERT_TRUE(load.ok());
  EXPECT_EQ(load.config.knowledge.refresh_interval.count(), 0);
}

TEST(KnowledgeConfig, AnswerThresholdBelowSuggestThresholdNamesTheKey) {
  ConfigLoad load =
      LoadConfigFromString("[knowledge]\nanswer_threshold = 0.4\nsuggest_threshold = 0.6\n");
  EXPECT_THAT(load.errors,
              ElementsAre("config: knowledge.answer_threshold: must be in [0, 1] and >= "
                          "suggest_threshold"));
  // Neither threshold is taken from an inconsistent pair.
  EXPECT_DOUBLE_EQ(load.config.knowledge.matcher.answer_threshold, 0.8);
  EXPECT_DOUBLE_EQ(load.config.knowledge.matcher.suggest_threshold, 0.5);
}

TEST(KnowledgeConfig, AnswerThresholdOutOfRangeNamesTheKey) {
  for (const char* value : {"1.5", "-0.1"}) {
    ConfigLoad load = LoadConfigFromString(std::string("[knowledge]\nanswer_threshold = ") + value);
    EXPECT_THAT(load.errors,
                ElementsAre("config: knowledge.answer_threshold: must be in [0, 1] and >= "
                            "suggest_threshold"))
        << value;
  }
}

TEST(KnowledgeConfig, AnswerThresholdOfTheWrongTypeIsOneError) {
  ConfigLoad load = LoadConfigFromString("[knowledge]\nanswer_threshold = \"high\"\n");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_THAT(load.errors[0], HasSubstr("knowledge.answer_threshold: expected a number"));
}

TEST(KnowledgeConfig, OutOfRangeValuesNameTheirKeys) {
  ConfigLoad load = LoadConfigFromString(R"(
[knowledge]
candidates = 0
min_retrieval_idf = -1
evidence_coverage = 1.5
suggest_threshold = 2
max_query_bytes = 10
refresh_interval_s = -1
pinyin = "yes"
)");
  ASSERT_EQ(load.errors.size(), 7u);
  EXPECT_THAT(load.errors[0], HasSubstr("knowledge.candidates: must be between 1 and 1000, got 0"));
  EXPECT_THAT(load.errors[1], HasSubstr("knowledge.min_retrieval_idf: must be between 0 and 20"));
  EXPECT_THAT(load.errors[2], HasSubstr("knowledge.evidence_coverage: must be between 0 and 1"));
  EXPECT_THAT(load.errors[3], HasSubstr("knowledge.suggest_threshold: must be between 0 and 1"));
  EXPECT_THAT(load.errors[4], HasSubstr("knowledge.pinyin:"));
  EXPECT_THAT(load.errors[5], HasSubstr("knowledge.max_query_bytes:"));
  EXPECT_THAT(load.errors[6], HasSubstr("knowledge.refresh_interval_s: must be between 0 and"));
  const knowledge::MatcherOptions defaults;
  EXPECT_EQ(load.config.knowledge.matcher.candidates, defaults.candidates);
  EXPECT_EQ(load.config.knowledge.matcher.max_query_bytes, defaults.max_query_bytes);
}

TEST(KnowledgeConfig, UnknownKeyIsReported) {
  ConfigLoad load = LoadConfigFromString("[knowledge]\nrerank_weights = [1, 2]\n");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_THAT(load.errors[0], HasSubstr("knowledge.rerank_weights"));
}

TEST(KnowledgeConfig, SetOverrideReachesTheMatcherOptions) {
  ConfigLoad load = LoadConfigFromString("", {"knowledge.candidates=100", "knowledge.pinyin=true"});
  ASSERT_TRUE(load.ok());
  EXPECT_EQ(load.config.knowledge.matcher.candidates, 100u);
  EXPECT_TRUE(load.config.knowledge.matcher.analyzer.pinyin);
}

}  // namespace
}  // namespace kefu::app
