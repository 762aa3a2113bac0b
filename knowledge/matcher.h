// Matcher: FAQ matching with reranking and a calibrated confidence.
//
// Match(query): the query is truncated to MatcherOptions::max_query_bytes, analysed with kefu_zh,
// the best `candidates` questions are retrieved by exact BM25 (MemoryFaqIndex, MaxScore), and
// each is reranked by a linear combination of lexical features (BM25, IDF-weighted overlap of
// characters and of words/bigrams in both directions, unweighted shares of distinct characters
// in both directions, character LCS, homophone-aware LCS, length difference, exact match, ...). A
// FAQ scores as its best question. The top FAQ's confidence is P(top answer right) from a logistic
// (Platt) calibration over its score and its margin over the runner-up; lower ranks get the same
// calibration applied to their own score and margin 0. See docs/knowledge.md for the fitting and
// the reliability table.
//
// Thread-safe: Match/Explain take a shared lock; Upsert/Remove/Rebuild an exclusive one, so a
// change is visible to the next Match at once.
#pragma once

#include <array>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "knowledge/analyzer.h"
#include "knowledge/faq.h"
#include "knowledge/lexicon.h"
#include "knowledge/memory_faq_index.h"

namespace kefu::knowledge {

inline constexpr size_t kFeatureCount = 18;
// Feature order (see Matcher::Candidates in matcher.cc).
inline constexpr std::array<const char*, kFeatureCount> kFeatureNames = {
    "bm25",          "q_char_cov", "d_char_cov", "q_multi_cov", "d_multi_cov",  "lcs",
    "pinyin_lcs",    "len_diff",   "exact",      "q_word_cov",  "d_word_cov",   "negation",
    "question_type", "cosine",     "centrality", "bm25_rr",     "q_char_share", "d_char_share"};

// Confidence of a top-1 FAQ whose question equals the query after normalisation (and no other
// FAQ's does).
inline constexpr double kExactMatchConfidence = 0.99;

// confidence = sigmoid(bias + log_p * log p + margin * m + coverage * c), where p is the softmax
// probability of the FAQ among the candidates under the reranker, m the score margin over the
// next FAQ (top-1 only) and c the IDF-weighted share of query characters the FAQ covers.
struct PlattCalibration {
  double bias = 0.0;
  double log_p = 1.0;
  double margin = 0.0;
  double coverage = 0.0;
};

// Nonlinear part of the reranker: score = w . f + sum_j out[j] * tanh(bias[j] + in[j] . f), a
// small hidden layer fitted listwise on top of the linear weights (docs/knowledge.md). Costs
// kHiddenUnits * kFeatureCount multiply-adds and kHiddenUnits tanh per candidate.
inline constexpr size_t kHiddenUnits = 4;
struct HiddenLayer {
  std::array<std::array<double, kFeatureCount>, kHiddenUnits> in{};
  std::array<double, kHiddenUnits> bias{};
  std::array<double, kHiddenUnits> out{};  // all 0: the reranker is linear
};

struct MatcherOptions {
  AnalyzerOptions analyzer;
  VocabularyOptions vocabulary;
  Bm25Options bm25;
  bool learn_vocabulary = true;  // learn lexicon words from the FAQ base on Rebuild
  size_t candidates = 60;        // BM25 candidates (questions) passed to the reranker
  // Query terms with a lower IDF (very frequent characters/bigrams) do not retrieve candidates;
  // they still count in the reranker's features. 0 keeps every term (exact BM25 candidates).
  double min_retrieval_idf = 0.0;
  size_t max_query_bytes = 1024;  // longer queries are cut at a character boundary
  // Fitted on faq-dev (listwise softmax loss over the 60 candidates; docs/knowledge.md).
  std::array<double, kFeatureCount> rerank_weights = {
      0.431,  3.477, 0.146, -1.449, -2.416, 0.958, 1.497, -0.067, -0.433,
      -0.766, 1.424, 0.749, -0.054, 2.184,  1.455, 0.382, 2.536,  2.455};
  HiddenLayer hidden;
  // Built-in colloquial Mandarin synonyms (咋 -> 怎么, 为啥 -> 为什么, 无法 -> 不能, ...).
  bool colloquial_synonyms = true;
  // Two-stage Platt fit on faq-dev (strict labels, then the adjudicated sample).
  PlattCalibration calibration = {3.8752, 0.7964, 0.4333, -2.0779};
  // Out-of-domain guard. faq-dev has no off-topic queries, so the calibration never saw one: a
  // question about something the base does not cover ("我想学钢琴") can win the softmax on a few
  // shared characters. The confidence is scaled by coverage / evidence_coverage when the FAQ
  // covers less than this IDF-weighted share of the query's characters (unknown characters count
  // as uncovered). 0 disables the guard.
  double evidence_coverage = 0.6;
  // Bot defaults: answer directly at confidence >= answer_threshold, suggest up to 3 FAQs at
  // >= suggest_threshold, else hand off. Chosen from the reliability table in docs/knowledge.md.
  double answer_threshold = 0.8;
  double suggest_threshold = 0.5;
};

// Admin-managed lexicon entries (UTF-8; normalised when loaded).
struct LexiconEntries {
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::string>> synonyms;  // variant -> canonical
};

struct FaqMatch {
  std::string faq_id;
  std::string matched_question;  // the standard or similar question that matched best
  double score = 0;              // reranker score (comparable within one query)
  double confidence = 0;         // calibrated probability that this FAQ is right
  double bm25 = 0;
};

struct CandidateFeatures {
  std::string faq_id;
  std::string question;
  std::array<double, kFeatureCount> features{};
};

class Matcher {
 public:
  explicit Matcher(MatcherOptions options = {});

  // Replaces the whole base: builds the lexicon (the admin entries last set + words learned from
  // all questions when options.learn_vocabulary) and indexes every enabled FAQ.
  void Rebuild(const std::vector<Faq>& faqs);
  // Sets the admin entries, then Rebuild(faqs).
  void Rebuild(const std::vector<Faq>& faqs, const LexiconEntries& admin);
  // Admin dictionary and synonyms used by later Rebuild(faqs) calls.
  void SetLexiconEntries(LexiconEntries admin);
  // Adds or replaces one FAQ (disabled -> removed); visible to the next Match.
  Status Upsert(const Faq& faq);
  Status Remove(std::string_view faq_id);

  // The best `k` FAQs for `query`, best first; empty when the query has no usable token.
  std::vector<FaqMatch> Match(std::string_view query, size_t k = 5) const;
  // Per-FAQ features of the best `n` candidates (in BM25 candidate order), for tuning.
  std::vector<CandidateFeatures> Explain(std::string_view query, size_t n) const;

  // The calibration applied to one FAQ's log softmax probability, margin and coverage.
  double Confidence(double log_p, double margin, double coverage) const;

  const MatcherOptions& options() const { return options_; }
  // Replaces reranker weights and calibration (tuning tools).
  void SetModel(const std::array<double, kFeatureCount>& weights, const PlattCalibration& cal);
  void SetModel(const std::array<double, kFeatureCount>& weights, const HiddenLayer& hidden,
                const PlattCalibration& cal);
  size_t faq_count() const;
  size_t lexicon_word_count() const;
  std::shared_ptr<const Analyzer> analyzer() const;

 private:
  struct Candidate {
    uint32_t doc;
    double bm25;
    std::array<double, kFeatureCount> f;
  };
  std::vector<Candidate> Candidates(std::string_view query) const;
  // The reranker score of one candidate's features (linear part plus hidden layer); caller holds
  // mu_.
  double RerankScore(const std::array<double, kFeatureCount>& features) const;

  MatcherOptions options_;
  mutable std::shared_mutex mu_;  // guards index_, admin_ and the model
  LexiconEntries admin_;
  std::unique_ptr<MemoryFaqIndex> index_;
};

// Generic colloquial Mandarin rewrites used when MatcherOptions::colloquial_synonyms is set.
const std::vector<std::pair<std::string, std::string>>& ColloquialSynonyms();

// Cuts `text` to at most `max_bytes` without splitting a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace kefu::knowledge
