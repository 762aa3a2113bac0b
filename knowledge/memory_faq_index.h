// MemoryFaqIndex: an in-memory inverted index over kefu_zh tokens with exact BM25 top-k by
// MaxScore. Every posting stores its precomputed BM25 term-frequency impact
// tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl)), so scoring a posting is one multiply-add.
// The rarest (highest-bound) lists are accumulated into a dense per-document array; once the
// bound of the remaining lists cannot lift an unseen document above the current k-th score, the
// surviving candidates are completed document-at-a-time from their own (short) term lists, best
// partial score first, stopping when no candidate can still enter the top k. Results equal
// unpruned BM25 (TopKExhaustive) over the same impacts.
//
// avgdl is a snapshot: impacts are recomputed by RefreshIdf() when the live average document
// length has drifted more than 1 % from the snapshot (and always on the first RefreshIdf()), so
// single FAQ edits do not rewrite every posting. Incremental: Upsert/Remove tombstone the old
// documents and append new ones; the index compacts itself when more than half of its documents
// are dead.
//
// Not synchronised: callers serialise writers against readers (Matcher holds a shared_mutex).
// Const methods may run concurrently with each other.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "knowledge/analyzer.h"
#include "knowledge/faq_index.h"

namespace kefu::knowledge {

struct Bm25Options {
  double k1 = 1.2;
  double b = 0.75;
  // Query-side weight of each token kind (unigram, bigram, word, latin, pinyin).
  double unigram_weight = 1.0;
  double bigram_weight = 1.0;
  double word_weight = 1.0;
  double latin_weight = 1.0;
  double pinyin_weight = 0.3;
  bool damp_fillers = true;  // multiply by Lexicon::FillerWeight
};

// Token classes used by the reranker's coverage features.
enum class TermClass : uint8_t { kChar = 0, kMulti = 1, kLatin = 2, kPinyin = 3 };
TermClass ClassOf(TokenKind kind);

// Key for homophone-aware comparison: the pinyin id of a Han character that has one, else the
// character itself (flagged so the two ranges never collide).
inline uint32_t HomophoneKey(char32_t c) {
  const uint16_t py = PinyinIdOf(c);
  return py != 0 ? py : (0x80000000u | static_cast<uint32_t>(c));
}

struct DocTerm {
  uint32_t term = 0;
  TermClass cls = TermClass::kChar;
  bool word = false;    // a lexicon word (learned vocabulary or admin dictionary)
  uint16_t tf = 0;      // occurrences in the document
  float filler = 1.0f;  // filler damping of this token text
  float impact = 0;     // BM25 term-frequency impact (see the file comment)
};

struct IndexedDoc {
  std::string faq_id;
  std::string question;
  std::u32string chars;  // normalised Han/letter/digit characters only (separators removed)
  // HomophoneKey(chars[i]): equal keys = same character or same toneless pinyin.
  std::vector<uint32_t> homophones;
  std::vector<DocTerm> terms;  // unique terms, sorted by term id
  uint32_t length = 0;         // token count (BM25 document length)
  uint8_t question_type = 0;   // QuestionTypeOf(chars)
  bool negated = false;        // IsNegated(chars)
  bool live = true;
};

// One query term after analysis: its id in the index (or kUnknownTerm), BM25 query weight and
// class. Unique by term text.
inline constexpr uint32_t kUnknownTerm = UINT32_MAX;
struct QueryTerm {
  uint32_t term = kUnknownTerm;
  TermClass cls = TermClass::kChar;
  double weight = 1.0;  // kind weight * filler damping
  double idf = 0;
  bool word = false;  // a lexicon word
};

struct ScoredDoc {
  uint32_t doc = 0;
  double bm25 = 0;
};

class MemoryFaqIndex final : public FaqIndex {
 public:
  MemoryFaqIndex(std::shared_ptr<const Analyzer> analyzer, Bm25Options options = {});

  Status Upsert(const Faq& faq) override;
  Status Remove(std::string_view faq_id) override;
  Result<std::vector<IndexHit>> Search(std::string_view query, size_t k) const override;

  // Query terms of an analysis, sorted by term id (unknown terms last).
  std::vector<QueryTerm> PrepareQuery(const Analysis& query) const;
  // Exact BM25 top-k documents for prepared terms, best first.
  std::vector<ScoredDoc> TopK(const std::vector<QueryTerm>& query, size_t k) const;
  // Same result without pruning (every posting scored): the reference for tests and benchmarks.
  std::vector<ScoredDoc> TopKExhaustive(const std::vector<QueryTerm>& query, size_t k) const;

  const IndexedDoc& doc(uint32_t d) const { return docs_[d]; }
  // BM25 IDF of a term: from the table of the last RefreshIdf() when it is current, else computed.
  double Idf(uint32_t term) const {
    if (idf_live_docs_ == live_docs_ && term < idf_.size()) return idf_[term];
    return ComputeIdf(term);
  }
  // Recomputes the IDF table after changes, and the impacts when avgdl drifted (call under the
  // writer lock).
  void RefreshIdf();
  // The average document length the impacts were computed with.
  double impact_avgdl() const { return impact_avgdl_; }
  double UnknownIdf() const;
  size_t live_docs() const { return live_docs_; }
  size_t faq_count() const { return faq_docs_.size(); }
  const Analyzer& analyzer() const { return *analyzer_; }
  const Bm25Options& options() const { return options_; }
  // Replaces the analyzer (e.g. a re-learned lexicon) and re-indexes every live document.
  void Reanalyze(std::shared_ptr<const Analyzer> analyzer);

 private:
  struct Posting {
    uint32_t doc;
    float impact;
  };
  struct Term {
    std::vector<Posting> postings;
    uint32_t df = 0;       // live documents containing the term
    float max_impact = 0;  // over all postings ever added (the bound stays valid)
    TermClass cls = TermClass::kChar;
    bool word = false;
  };
  float Impact(uint32_t tf, uint32_t length) const;
  double ComputeIdf(uint32_t term) const;
  void RecomputeImpacts();
  void AddDoc(const std::string& faq_id, const std::string& question);
  void KillDoc(uint32_t d);
  void Compact();
  double KindWeight(TokenKind kind) const;
  bool IsLexiconWord(const Token& t) const;

  std::shared_ptr<const Analyzer> analyzer_;
  Bm25Options options_;
  std::unordered_map<std::string, uint32_t> term_ids_;
  std::vector<Term> terms_;
  std::vector<IndexedDoc> docs_;
  std::vector<uint8_t> doc_live_;      // docs_[d].live
  std::vector<float> doc_max_impact_;  // largest impact among docs_[d].terms
  std::unordered_map<std::string, std::vector<uint32_t>> faq_docs_;
  size_t live_docs_ = 0;
  double live_length_ = 0;
  std::vector<double> idf_;
  size_t idf_live_docs_ = SIZE_MAX;  // live_docs_ when idf_ was computed
  double impact_avgdl_ = 0;          // 0 until the first document
};

}  // namespace kefu::knowledge
