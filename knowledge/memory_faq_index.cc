#include "knowledge/memory_faq_index.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {

TermClass ClassOf(TokenKind kind) {
  switch (kind) {
    case TokenKind::kUnigram:
      return TermClass::kChar;
    case TokenKind::kBigram:
    case TokenKind::kWord:
      return TermClass::kMulti;
    case TokenKind::kLatin:
      return TermClass::kLatin;
    case TokenKind::kPinyin:
      return TermClass::kPinyin;
  }
  return TermClass::kChar;
}

MemoryFaqIndex::MemoryFaqIndex(std::shared_ptr<const Analyzer> analyzer, Bm25Options options)
    : analyzer_(std::move(analyzer)), options_(options) {}

double MemoryFaqIndex::KindWeight(TokenKind kind) const {
  switch (kind) {
    case TokenKind::kUnigram:
      return options_.unigram_weight;
    case TokenKind::kBigram:
      return options_.bigram_weight;
    case TokenKind::kWord:
      return options_.word_weight;
    case TokenKind::kLatin:
      return options_.latin_weight;
    case TokenKind::kPinyin:
      return options_.pinyin_weight;
  }
  return 1.0;
}

bool MemoryFaqIndex::IsLexiconWord(const Token& t) const {
  return (t.kind == TokenKind::kWord || t.kind == TokenKind::kBigram) &&
         analyzer_->lexicon().IsWord(FromUtf8(t.text));
}

float MemoryFaqIndex::Impact(uint32_t tf, uint32_t length) const {
  const double k1 = options_.k1;
  const double b = options_.b;
  const double f = tf;
  return static_cast<float>(f * (k1 + 1) / (f + k1 * (1 - b + b * length / impact_avgdl_)));
}

void MemoryFaqIndex::RecomputeImpacts() {
  // Postings were appended in document order, one per (term, document): a cursor per term walks
  // them in step with the documents.
  std::vector<uint32_t> cursor(terms_.size(), 0);
  for (Term& t : terms_)
    t.max_impact = 0;
  for (size_t d = 0; d < docs_.size(); ++d) {
    IndexedDoc& doc = docs_[d];
    doc_max_impact_[d] = 0;
    for (DocTerm& dt : doc.terms) {
      dt.impact = Impact(dt.tf, doc.length);
      doc_max_impact_[d] = std::max(doc_max_impact_[d], dt.impact);
      Term& term = terms_[dt.term];
      term.postings[cursor[dt.term]++].impact = dt.impact;
      fwd_[fwd_begin_[d] + static_cast<size_t>(&dt - doc.terms.data())].impact = dt.impact;
      term.max_impact = std::max(term.max_impact, dt.impact);
    }
  }
}

void MemoryFaqIndex::RefreshIdf() {
  if (live_docs_ > 0) {
    const double avgdl = live_length_ / static_cast<double>(live_docs_);
    if (std::abs(avgdl - impact_avgdl_) > 0.01 * avgdl) {
      impact_avgdl_ = avgdl;
      RecomputeImpacts();
    }
  }
  idf_.resize(terms_.size());
  idf_live_docs_ = SIZE_MAX;
  for (uint32_t t = 0; t < terms_.size(); ++t)
    idf_[t] = ComputeIdf(t);
  idf_live_docs_ = live_docs_;
}

double MemoryFaqIndex::ComputeIdf(uint32_t term) const {
  const double n = static_cast<double>(live_docs_);
  const double df = term < terms_.size() ? terms_[term].df : 0;
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

double MemoryFaqIndex::UnknownIdf() const {
  return std::log(1.0 + (static_cast<double>(live_docs_) + 0.5) / 0.5);
}

void MemoryFaqIndex::AddDoc(const std::string& faq_id, const std::string& question) {
  idf_live_docs_ = SIZE_MAX;
  const uint32_t d = static_cast<uint32_t>(docs_.size());
  IndexedDoc doc;
  doc.faq_id = faq_id;
  doc.question = question;
  Analysis a = analyzer_->Analyze(question);
  for (char32_t c : a.text) {
    if (IsHan(c) || IsWordChar(c)) {
      doc.chars.push_back(c);
      doc.homophones.push_back(HomophoneKey(c));
    }
  }
  std::unordered_map<uint32_t, uint32_t> tf;
  const Lexicon& lex = analyzer_->lexicon();
  for (const Token& t : a.tokens) {
    auto [it, inserted] = term_ids_.try_emplace(t.text, static_cast<uint32_t>(terms_.size()));
    if (inserted) {
      terms_.emplace_back();
      terms_.back().cls = ClassOf(t.kind);
      terms_.back().word = IsLexiconWord(t);
    }
    if (tf[it->second]++ == 0) {
      const float filler = t.kind == TokenKind::kPinyin
                               ? 1.0f
                               : static_cast<float>(lex.FillerWeight(FromUtf8(t.text)));
      DocTerm dt;
      dt.term = it->second;
      dt.cls = ClassOf(t.kind);
      dt.word = terms_[it->second].word;
      dt.filler = filler;
      doc.terms.push_back(dt);
    }
  }
  doc.length = static_cast<uint32_t>(a.tokens.size());
  doc.question_type = QuestionTypeOf(a.text);
  doc.negated = IsNegated(a.text);
  std::sort(doc.terms.begin(), doc.terms.end(),
            [](const DocTerm& x, const DocTerm& y) { return x.term < y.term; });
  if (impact_avgdl_ == 0) impact_avgdl_ = std::max<uint32_t>(doc.length, 1);
  for (DocTerm& dt : doc.terms) {
    Term& term = terms_[dt.term];
    dt.tf = static_cast<uint16_t>(std::min<uint32_t>(tf[dt.term], UINT16_MAX));
    dt.impact = Impact(dt.tf, doc.length);
    term.postings.push_back({d, dt.impact});
    fwd_.push_back({dt.term, dt.impact});
    ++term.df;
    term.max_impact = std::max(term.max_impact, dt.impact);
  }
  float max_impact = 0;
  for (const DocTerm& dt : doc.terms)
    max_impact = std::max(max_impact, dt.impact);
  doc_max_impact_.push_back(max_impact);
  fwd_begin_.push_back(static_cast<uint32_t>(fwd_.size()));
  doc_live_.push_back(1);
  live_length_ += doc.length;
  ++live_docs_;
  faq_docs_[faq_id].push_back(d);
  docs_.push_back(std::move(doc));
}

void MemoryFaqIndex::KillDoc(uint32_t d) {
  IndexedDoc& doc = docs_[d];
  if (!doc.live) return;
  idf_live_docs_ = SIZE_MAX;
  doc.live = false;
  doc_live_[d] = 0;
  for (const DocTerm& dt : doc.terms)
    --terms_[dt.term].df;
  live_length_ -= doc.length;
  --live_docs_;
}

Status MemoryFaqIndex::Upsert(const Faq& faq) {
  if (faq.id.empty()) return InvalidArgument("id: required to index a FAQ");
  KEFU_RETURN_IF_ERROR(Remove(faq.id));
  if (!faq.enabled) return Status::Ok();
  AddDoc(faq.id, faq.question);
  for (const std::string& q : faq.similar_questions)
    AddDoc(faq.id, q);
  return Status::Ok();
}

Status MemoryFaqIndex::Remove(std::string_view faq_id) {
  auto it = faq_docs_.find(std::string(faq_id));
  if (it == faq_docs_.end()) return Status::Ok();
  for (uint32_t d : it->second)
    KillDoc(d);
  faq_docs_.erase(it);
  if (docs_.size() > 64 && live_docs_ * 2 < docs_.size()) Compact();
  return Status::Ok();
}

void MemoryFaqIndex::Compact() {
  Reanalyze(analyzer_);
}

void MemoryFaqIndex::Reanalyze(std::shared_ptr<const Analyzer> analyzer) {
  std::vector<IndexedDoc> old = std::move(docs_);
  analyzer_ = std::move(analyzer);
  term_ids_.clear();
  terms_.clear();
  docs_.clear();
  doc_live_.clear();
  doc_max_impact_.clear();
  fwd_.clear();
  fwd_begin_.assign(1, 0);
  faq_docs_.clear();
  live_docs_ = 0;
  live_length_ = 0;
  for (const IndexedDoc& d : old) {
    if (d.live) AddDoc(d.faq_id, d.question);
  }
}

std::vector<QueryTerm> MemoryFaqIndex::PrepareQuery(const Analysis& query) const {
  std::unordered_map<std::string_view, size_t> seen;
  std::vector<QueryTerm> out;
  const Lexicon& lex = analyzer_->lexicon();
  thread_local std::u32string text;
  for (const Token& t : query.tokens) {
    FromUtf8Into(t.text, text);
    double w = KindWeight(t.kind);
    if (options_.damp_fillers && t.kind != TokenKind::kPinyin) w *= lex.FillerWeight(text);
    auto [it, inserted] = seen.try_emplace(t.text, out.size());
    if (!inserted) {
      out[it->second].weight = std::max(out[it->second].weight, w);
      continue;
    }
    QueryTerm q;
    q.cls = ClassOf(t.kind);
    q.weight = w;
    q.word = (t.kind == TokenKind::kWord || t.kind == TokenKind::kBigram) && lex.IsWord(text);
    if (auto id = term_ids_.find(t.text); id != term_ids_.end() && terms_[id->second].df > 0) {
      q.term = id->second;
      q.idf = Idf(q.term);
    } else {
      q.idf = UnknownIdf();
    }
    out.push_back(q);
  }
  std::sort(out.begin(), out.end(),
            [](const QueryTerm& a, const QueryTerm& b) { return a.term < b.term; });
  return out;
}

namespace {

bool Better(const ScoredDoc& a, const ScoredDoc& b) {
  return a.bm25 > b.bm25 || (a.bm25 == b.bm25 && a.doc < b.doc);
}

// Query weight per term id for scoring documents from their own term lists: a bitset over all
// term ids rejects the (mostly absent) document terms before an open-addressing lookup. Per
// thread; cleared per query in O(query terms).
class TermWeights {
 public:
  void Reset(size_t n, size_t term_count) {
    for (size_t i : used_) {
      bits_[slots_[i].term >> 6] = 0;
      slots_[i] = Slot{};
    }
    used_.clear();
    if (bits_.size() < term_count / 64 + 1) bits_.resize(term_count / 64 + 1, 0);
    size_t size = 64;
    while (size < 4 * n)
      size *= 2;
    if (slots_.size() < size) slots_.assign(size, Slot{});
    mask_ = slots_.size() - 1;
  }
  void Set(uint32_t term, double w) {
    size_t i = Hash(term);
    while (slots_[i].term != kUnknownTerm && slots_[i].term != term)
      i = (i + 1) & mask_;
    if (slots_[i].term == kUnknownTerm) used_.push_back(i);
    slots_[i] = {term, w};
    bits_[term >> 6] |= uint64_t{1} << (term & 63);
  }
  bool MayContain(uint32_t term) const { return (bits_[term >> 6] >> (term & 63)) & 1; }
  double Get(uint32_t term) const {
    size_t i = Hash(term);
    while (slots_[i].term != kUnknownTerm) {
      if (slots_[i].term == term) return slots_[i].w;
      i = (i + 1) & mask_;
    }
    return 0.0;
  }

 private:
  struct Slot {
    uint32_t term = kUnknownTerm;
    double w = 0;
  };
  size_t Hash(uint32_t term) const { return (term * 2654435761u) & mask_; }
  std::vector<Slot> slots_;
  std::vector<size_t> used_;
  std::vector<uint64_t> bits_;
  size_t mask_ = 0;
};

}  // namespace

std::vector<ScoredDoc> MemoryFaqIndex::TopK(const std::vector<QueryTerm>& query, size_t k) const {
  std::vector<ScoredDoc> out;
  if (k == 0 || live_docs_ == 0) return out;
  struct List {
    uint32_t term;
    double w;   // query weight * idf
    double ub;  // upper bound of this term's contribution to any document
  };
  // Per-thread scratch, reused across queries (no allocation once warm).
  thread_local std::vector<List> lists;
  thread_local std::vector<double> rem;   // rem[i]: sum of the bounds of lists i..end
  thread_local std::vector<double> wrem;  // wrem[i]: sum of the weights of lists i..end
  thread_local std::vector<double> acc;
  thread_local std::vector<double> exact_score;  // -1 = not computed yet
  thread_local std::vector<uint32_t> touched;
  thread_local std::vector<ScoredDoc> scratch;
  thread_local std::vector<ScoredDoc> best;
  thread_local std::vector<ScoredDoc> pool;
  thread_local TermWeights weights;
  lists.clear();
  for (const QueryTerm& q : query) {
    if (q.term == kUnknownTerm || q.weight <= 0) continue;
    const Term& t = terms_[q.term];
    if (t.df == 0) continue;
    const double w = q.weight * q.idf;
    lists.push_back({q.term, w, w * t.max_impact});
  }
  if (lists.empty()) return out;
  // Highest-impact (rarest) lists first.
  std::sort(lists.begin(), lists.end(), [](const List& x, const List& y) {
    return x.ub > y.ub || (x.ub == y.ub && x.term < y.term);
  });
  rem.assign(lists.size() + 1, 0.0);
  wrem.assign(lists.size() + 1, 0.0);
  for (size_t i = lists.size(); i-- > 0;) {
    rem[i] = rem[i + 1] + lists[i].ub;
    wrem[i] = wrem[i + 1] + lists[i].w;
  }
  weights.Reset(lists.size(), terms_.size());
  for (const List& l : lists)
    weights.Set(l.term, l.w);
  // Full BM25 of a touched document from its own (short) term list, computed once per query.
  auto exact = [&](uint32_t d) {
    if (exact_score[d] >= 0) return exact_score[d];
    double s = 0;
    const Posting* f = fwd_.data() + fwd_begin_[d];
    const Posting* fe = fwd_.data() + fwd_begin_[d + 1];
    for (; f != fe; ++f) {
      if (weights.MayContain(f->doc)) s += weights.Get(f->doc) * f->impact;
    }
    exact_score[d] = s;
    return s;
  };
  // Bound of what lists i.. can still add to document d: the global bound, or the document's
  // own largest impact times the remaining query weight (tighter for longer documents).
  auto bound = [&](uint32_t d, size_t i) {
    return std::min(rem[i], static_cast<double>(doc_max_impact_[d]) * wrem[i]);
  };
  if (acc.size() < docs_.size()) acc.resize(docs_.size(), 0.0);
  if (exact_score.size() < docs_.size()) exact_score.resize(docs_.size(), -1.0);
  touched.clear();
  // pool: the k best exact scores seen so far (min-heap). Its minimum theta is a lower bound of
  // the final k-th best score (k real documents score at least that much); -1 until it is full.
  // A document is scored exactly when its partial score first exceeds theta (exact >= partial,
  // so it can only raise theta), which keeps theta close to the final k-th score early on.
  double theta = -1;
  auto by_score_desc = [](const ScoredDoc& x, const ScoredDoc& y) { return x.bm25 > y.bm25; };
  pool.clear();
  auto offer = [&](uint32_t d) {
    const double e = exact(d);
    if (pool.size() < k) {
      pool.push_back({d, e});
      std::push_heap(pool.begin(), pool.end(), by_score_desc);
    } else if (e > pool.front().bm25) {
      std::pop_heap(pool.begin(), pool.end(), by_score_desc);
      pool.back() = {d, e};
      std::push_heap(pool.begin(), pool.end(), by_score_desc);
    }
    if (pool.size() == k) theta = pool.front().bm25;
  };
  // Slack for floating-point rounding in bound comparisons: pruning stays conservative.
  constexpr double kSlack = 1e-9;
  size_t li = 0;
  for (; li < lists.size(); ++li) {
    if (theta >= 0 && rem[li] + kSlack < theta) break;  // no untouched document can reach the top k
    const double w = lists[li].w;
    for (const Posting& p : terms_[lists[li].term].postings) {
      if (!doc_live_[p.doc]) continue;
      double& a = acc[p.doc];
      if (a == 0.0) touched.push_back(p.doc);
      a += w * p.impact;
      if (a > theta && exact_score[p.doc] < 0) offer(p.doc);
    }
  }
  auto better = [](const ScoredDoc& x, const ScoredDoc& y) { return Better(x, y); };
  if (li == lists.size()) {
    // Every list was accumulated: the partial scores are the scores.
    out.reserve(touched.size());
    for (uint32_t d : touched)
      out.push_back({d, acc[d]});
  } else {
    // The remaining (frequent) lists are not scanned: candidates whose bound can still reach
    // theta are scored exactly from their own term lists, best bound first, until no candidate
    // left can enter the top k.
    scratch.clear();
    for (uint32_t d : touched) {
      const double ub = acc[d] + bound(d, li);
      if (ub + kSlack >= theta) scratch.push_back({d, ub});
    }

    auto by_bound = [](const ScoredDoc& x, const ScoredDoc& y) { return x.bm25 < y.bm25; };
    std::make_heap(scratch.begin(), scratch.end(), by_bound);
    best.clear();
    while (!scratch.empty()) {
      std::pop_heap(scratch.begin(), scratch.end(), by_bound);
      const ScoredDoc c = scratch.back();
      scratch.pop_back();
      if (best.size() == k && c.bm25 + kSlack < best.front().bm25) break;
      const ScoredDoc s{c.doc, exact(c.doc)};
      if (best.size() < k) {
        best.push_back(s);
        std::push_heap(best.begin(), best.end(), better);  // worst of the best on top
      } else if (Better(s, best.front())) {
        std::pop_heap(best.begin(), best.end(), better);
        best.back() = s;
        std::push_heap(best.begin(), best.end(), better);
      }
    }
    out.assign(best.begin(), best.end());
  }

  for (uint32_t d : touched) {
    acc[d] = 0.0;
    exact_score[d] = -1.0;
  }
  const size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<long>(keep), out.end(), better);
  out.resize(keep);
  return out;
}

std::vector<ScoredDoc> MemoryFaqIndex::TopKExhaustive(const std::vector<QueryTerm>& query,
                                                      size_t k) const {
  std::vector<ScoredDoc> all;
  if (live_docs_ == 0) return all;
  std::unordered_map<uint32_t, double> scores;
  for (const QueryTerm& q : query) {
    if (q.term == kUnknownTerm || q.weight <= 0) continue;
    for (const Posting& p : terms_[q.term].postings) {
      if (!docs_[p.doc].live) continue;
      scores[p.doc] += q.weight * q.idf * p.impact;
    }
  }
  for (const auto& [d, s] : scores)
    all.push_back({d, s});
  std::sort(all.begin(), all.end(), Better);
  if (all.size() > k) all.resize(k);
  return all;
}

Result<std::vector<IndexHit>> MemoryFaqIndex::Search(std::string_view query, size_t k) const {
  std::vector<IndexHit> out;
  for (const ScoredDoc& s : TopK(PrepareQuery(analyzer_->Analyze(query)), k)) {
    out.push_back({docs_[s.doc].faq_id, docs_[s.doc].question, s.bm25});
  }
  return out;
}

}  // namespace kefu::knowledge
