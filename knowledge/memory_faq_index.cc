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

void MemoryFaqIndex::RefreshIdf() {
  idf_.resize(terms_.size());
  idf_live_docs_ = SIZE_MAX;
  for (uint32_t t = 0; t < terms_.size(); ++t)
    idf_[t] = Idf(t);
  idf_live_docs_ = live_docs_;
}

double MemoryFaqIndex::Idf(uint32_t term) const {
  if (idf_live_docs_ == live_docs_ && term < idf_.size()) return idf_[term];
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
    if (IsHan(c) || IsWordChar(c)) doc.chars.push_back(c);
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
      doc.terms.push_back({it->second, ClassOf(t.kind), filler, terms_[it->second].word});
    }
  }
  doc.length = static_cast<uint32_t>(a.tokens.size());
  doc.question_type = QuestionTypeOf(a.text);
  doc.negated = IsNegated(a.text);
  std::sort(doc.terms.begin(), doc.terms.end(),
            [](const DocTerm& x, const DocTerm& y) { return x.term < y.term; });
  for (const DocTerm& dt : doc.terms) {
    Term& term = terms_[dt.term];
    const uint32_t f = tf[dt.term];
    term.postings.push_back({d, f});
    ++term.df;
    term.max_tf = std::max(term.max_tf, f);
    term.min_length = std::min(term.min_length, doc.length);
  }
  doc_length_.push_back(static_cast<float>(doc.length));
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
  doc_length_.clear();
  doc_live_.clear();
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
  for (const Token& t : query.tokens) {
    double w = KindWeight(t.kind);
    if (options_.damp_fillers && t.kind != TokenKind::kPinyin)
      w *= lex.FillerWeight(FromUtf8(t.text));
    auto [it, inserted] = seen.try_emplace(t.text, out.size());
    if (!inserted) {
      out[it->second].weight = std::max(out[it->second].weight, w);
      continue;
    }
    QueryTerm q;
    q.cls = ClassOf(t.kind);
    q.weight = w;
    q.word = IsLexiconWord(t);
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
  const double k1 = options_.k1;
  const double b = options_.b;
  const double avgdl = live_length_ / static_cast<double>(live_docs_);
  struct List {
    const std::vector<Posting>* postings;
    double w;   // query weight * idf
    double ub;  // upper bound of this term's contribution to any document
  };
  std::vector<List> lists;
  for (const QueryTerm& q : query) {
    if (q.term == kUnknownTerm || q.weight <= 0) continue;
    const Term& t = terms_[q.term];
    if (t.df == 0) continue;
    const double w = q.weight * q.idf;
    const double tf = t.max_tf;
    const double norm = k1 * (1 - b + b * t.min_length / avgdl);
    lists.push_back({&t.postings, w, w * tf * (k1 + 1) / (tf + norm)});
  }
  // Term-at-a-time MaxScore: highest-impact (rarest) lists first into dense accumulators; once
  // the impact still to come cannot lift an unseen document above the current k-th score, the
  // remaining (frequent, long) lists are only probed for the surviving candidates.
  std::sort(lists.begin(), lists.end(), [](const List& x, const List& y) { return x.ub > y.ub; });
  double remaining = 0;
  for (const List& l : lists)
    remaining += l.ub;
  thread_local std::vector<double> acc;
  thread_local std::vector<uint32_t> touched;
  thread_local std::vector<double> scratch;
  if (acc.size() < docs_.size()) acc.resize(docs_.size(), 0.0);
  touched.clear();
  auto contribution = [&](const List& l, const Posting& p) {
    const double tf = p.tf;
    return l.w * tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_length_[p.doc] / avgdl));
  };
  auto kth_score = [&]() {
    if (touched.size() < k) return -1.0;
    scratch.clear();
    for (uint32_t d : touched)
      scratch.push_back(acc[d]);
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<long>(k - 1), scratch.end(),
                     std::greater<>());
    return scratch[k - 1];
  };
  size_t li = 0;
  double theta = -1;
  for (; li < lists.size(); ++li) {
    if (remaining <= theta) break;
    const List& l = lists[li];
    for (const Posting& p : *l.postings) {
      if (!doc_live_[p.doc]) continue;
      if (acc[p.doc] == 0.0) touched.push_back(p.doc);
      acc[p.doc] += contribution(l, p);
    }
    remaining -= l.ub;
    theta = kth_score();
  }
  std::vector<uint32_t> cands;
  for (uint32_t d : touched) {
    if (acc[d] + remaining > theta || li == lists.size()) cands.push_back(d);
  }
  std::sort(cands.begin(), cands.end());
  for (; li < lists.size(); ++li) {
    const List& l = lists[li];
    const Posting* p = l.postings->data();
    const Posting* e = p + l.postings->size();
    for (uint32_t d : cands) {
      p = std::lower_bound(p, e, d, [](const Posting& x, uint32_t doc) { return x.doc < doc; });
      if (p == e) break;
      if (p->doc == d) acc[d] += contribution(l, *p);
    }
  }
  out.reserve(cands.size());
  for (uint32_t d : cands)
    out.push_back({d, acc[d]});
  for (uint32_t d : touched)
    acc[d] = 0.0;
  const size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<long>(keep), out.end(), Better);
  out.resize(keep);
  return out;
}

std::vector<ScoredDoc> MemoryFaqIndex::TopKExhaustive(const std::vector<QueryTerm>& query,
                                                      size_t k) const {
  std::vector<ScoredDoc> all;
  if (live_docs_ == 0) return all;
  const double k1 = options_.k1;
  const double b = options_.b;
  const double avgdl = live_length_ / static_cast<double>(live_docs_);
  std::unordered_map<uint32_t, double> scores;
  for (const QueryTerm& q : query) {
    if (q.term == kUnknownTerm || q.weight <= 0) continue;
    for (const Posting& p : terms_[q.term].postings) {
      const IndexedDoc& doc = docs_[p.doc];
      if (!doc.live) continue;
      const double norm = k1 * (1 - b + b * doc.length / avgdl);
      scores[p.doc] += q.weight * q.idf * p.tf * (k1 + 1) / (p.tf + norm);
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
