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
    ++term.df;
    term.max_impact = std::max(term.max_impact, dt.impact);
  }
  float max_impact = 0;
  for (const DocTerm& dt : doc.terms)
    max_impact = std::max(max_impact, dt.impact);
  doc_max_impact_.push_back(max_impact);
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
  thread_local std::vector<uint32_t> touched;
  thread_local std::vector<double> scratch;
  thread_local std::vector<ScoredDoc> cands;
  lists.clear();
  for (const QueryTerm& q : query) {
    if (q.term == kUnknownTerm || q.weight <= 0) continue;
    const Term& t = terms_[q.term];
    if (t.df == 0) continue;
    const double w = q.weight * q.idf;
    lists.push_back({q.term, w, w * t.max_impact});
  }
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
  // Bound of what lists i.. can still add to document d: the global bound, or the document's
  // own largest impact times the remaining query weight (tighter for longer documents).
  auto bound = [&](uint32_t d, size_t i) {
    return std::min(rem[i], static_cast<double>(doc_max_impact_[d]) * wrem[i]);
  };
  if (acc.size() < docs_.size()) acc.resize(docs_.size(), 0.0);
  touched.clear();
  // The k-th best partial score among the touched documents (a lower bound of the final k-th).
  // It never decreases, so only scores at or above the previous value need to be ranked.
  double theta = 0;
  auto kth_score = [&]() {
    scratch.clear();
    for (uint32_t d : touched) {
      if (acc[d] >= theta) scratch.push_back(acc[d]);
    }
    if (scratch.size() < k) return theta;
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<long>(k - 1), scratch.end(),
                     std::greater<>());
    return scratch[k - 1];
  };
  // Slack for floating-point rounding in bound comparisons: pruning stays conservative.
  constexpr double kSlack = 1e-9;
  size_t li = 0;
  for (; li < lists.size(); ++li) {
    // rem[0] - rem[li] bounds every partial score, so the k-th is only computed when it could
    // already exceed the bound of the remaining lists.
    if (touched.size() >= k && rem[li] + kSlack < rem[0] - rem[li]) {
      theta = kth_score();
      if (rem[li] + kSlack < theta) break;  // no untouched document can reach the top k
    }
    const double w = lists[li].w;
    for (const Posting& p : terms_[lists[li].term].postings) {
      if (!doc_live_[p.doc]) continue;
      double& a = acc[p.doc];
      if (a == 0.0) touched.push_back(p.doc);
      a += w * p.impact;
    }
  }
  auto better = [](const ScoredDoc& x, const ScoredDoc& y) { return Better(x, y); };
  if (li < lists.size()) {
    // The remaining (frequent) lists only complete the surviving candidates: a branch-free scan
    // weighted by a dense 0/1 candidate flag, or a binary-search probe per candidate once few are
    // left. After each list, candidates that can no longer reach the k-th partial score drop.
    thread_local std::vector<double> is_cand;
    if (is_cand.size() < docs_.size()) is_cand.resize(docs_.size(), 0.0);
    cands.clear();
    for (uint32_t d : touched) {
      if (acc[d] + bound(d, li) + kSlack >= theta) {
        cands.push_back({d, 0});
        is_cand[d] = 1.0;
      }
    }
    for (; li < lists.size(); ++li) {
      const double w = lists[li].w;
      const std::vector<Posting>& postings = terms_[lists[li].term].postings;
      if (cands.size() * 16 < postings.size()) {
        std::sort(cands.begin(), cands.end(),
                  [](const ScoredDoc& x, const ScoredDoc& y) { return x.doc < y.doc; });
        const Posting* p = postings.data();
        const Posting* e = p + postings.size();
        for (const ScoredDoc& c : cands) {
          p = std::lower_bound(p, e, c.doc, [](const Posting& x, uint32_t d) { return x.doc < d; });
          if (p == e) break;
          if (p->doc == c.doc) acc[c.doc] += w * p->impact;
        }
      } else {
        for (const Posting& p : postings)
          acc[p.doc] += w * p.impact * is_cand[p.doc];
      }
      if (li + 1 < lists.size() && cands.size() > k) {
        scratch.clear();
        for (const ScoredDoc& c : cands)
          scratch.push_back(acc[c.doc]);
        std::nth_element(scratch.begin(), scratch.begin() + static_cast<long>(k - 1), scratch.end(),
                         std::greater<>());
        theta = scratch[k - 1];
        size_t kept = 0;
        for (const ScoredDoc& c : cands) {
          if (acc[c.doc] + bound(c.doc, li + 1) + kSlack >= theta) {
            cands[kept++] = c;
          } else {
            is_cand[c.doc] = 0.0;
          }
        }
        cands.resize(kept);
      }
    }
    out.reserve(cands.size());
    for (const ScoredDoc& c : cands) {
      out.push_back({c.doc, acc[c.doc]});
      is_cand[c.doc] = 0.0;
    }
  } else {
    out.reserve(touched.size());
    for (uint32_t d : touched)
      out.push_back({d, acc[d]});
  }
  for (uint32_t d : touched)
    acc[d] = 0.0;
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
