// [knowledge] configuration: the matcher knobs an operator tunes and the live-refresh interval.
//
//   [knowledge]
//   candidates = 60             # BM25 candidate questions passed to the reranker (1-1000)
//   min_retrieval_idf = 0.0     # terms below this IDF only rerank (0-20; 0 = every term)
//   evidence_coverage = 0.6     # out-of-domain guard (0-1; 0 = off)
//   answer_threshold = 0.8      # [0, 1] and >= suggest_threshold
//   suggest_threshold = 0.5     # [0, 1]
//   pinyin = false              # pinyin tokens in the matcher's index
//   learn_vocabulary = true     # learn words from the FAQ base on rebuild
//   colloquial_synonyms = true  # built-in colloquial Mandarin rewrites
//   max_query_bytes = 1024      # longer queries are cut (64 bytes - 1 MiB)
//   refresh_interval_s = 2      # generation check for changes by other processes (0 = off)
//
// The fitted reranker weights and calibration are not configurable (docs/knowledge.md).
#include <chrono>
#include <cmath>
#include <cstdint>

#include "app/config_sections.h"

namespace kefu::app {

void ReadKnowledgeConfig(const ConfigSection& root, Config& config) {
  const ConfigSection s = root.Table("knowledge");
  knowledge::MatcherOptions& o = config.knowledge.matcher;

  int64_t candidates = static_cast<int64_t>(o.candidates);
  s.Int64("candidates", candidates, 1, 1000);
  o.candidates = static_cast<size_t>(candidates);
  s.Double("min_retrieval_idf", o.min_retrieval_idf, 0.0, 20.0);
  s.Double("evidence_coverage", o.evidence_coverage, 0.0, 1.0);

  // The thresholds are checked together; answer_threshold's error names both conditions.
  double suggest = o.suggest_threshold;
  s.Double("suggest_threshold", suggest, 0.0, 1.0);
  double answer = o.answer_threshold;
  s.Double("answer_threshold", answer, -HUGE_VAL, HUGE_VAL);
  if (!(answer >= 0.0 && answer <= 1.0) || answer < suggest) {
    s.Error("answer_threshold", "must be in [0, 1] and >= suggest_threshold");
  } else {
    o.answer_threshold = answer;
    o.suggest_threshold = suggest;
  }

  s.Bool("pinyin", o.analyzer.pinyin);
  s.Bool("learn_vocabulary", o.learn_vocabulary);
  s.Bool("colloquial_synonyms", o.colloquial_synonyms);
  s.ByteSize("max_query_bytes", o.max_query_bytes, 64, int64_t{1} << 20);

  double refresh_s = static_cast<double>(config.knowledge.refresh_interval.count()) / 1000.0;
  s.Double("refresh_interval_s", refresh_s, 0.0, 3600.0);
  config.knowledge.refresh_interval =
      std::chrono::milliseconds(static_cast<int64_t>(std::llround(refresh_s * 1000.0)));
}

}  // namespace kefu::app
