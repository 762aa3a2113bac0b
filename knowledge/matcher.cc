#include "knowledge/matcher.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

size_t Lcs(const std::u32string& a, const std::u32string& b, bool homophones) {
  if (a.empty() || b.empty()) return 0;
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      bool eq = a[i - 1] == b[j - 1];
      if (!eq && homophones) {
        const uint16_t pa = PinyinIdOf(a[i - 1]);
        eq = pa != 0 && pa == PinyinIdOf(b[j - 1]);
      }
      cur[j] = eq ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

int Slot(TermClass c) {
  switch (c) {
    case TermClass::kChar:
      return 0;
    case TermClass::kMulti:
    case TermClass::kLatin:
      return 1;
    case TermClass::kPinyin:
      return -1;
  }
  return -1;
}

std::shared_ptr<const Analyzer> MakeAnalyzer(const MatcherOptions& options,
                                             std::shared_ptr<const Lexicon> lexicon) {
  return std::make_shared<const Analyzer>(options.analyzer, std::move(lexicon));
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& ColloquialSynonyms() {
  static const std::vector<std::pair<std::string, std::string>> kPairs = {
      {"咋", "怎么"},     {"为啥", "为什么"}, {"干嘛", "为什么"},   {"如何", "怎么"},
      {"怎样", "怎么"},   {"怎么样", "怎么"}, {"啥", "什么"},       {"无法", "不能"},
      {"没法", "不能"},   {"没办法", "不能"}, {"不可以", "不能"},   {"不能够", "不能"},
      {"能否", "能不能"}, {"可否", "能不能"}, {"嘛", "吗"},         {"退钱", "退款"},
      {"还钱", "还款"},   {"付钱", "付款"},   {"多长时间", "多久"}, {"何时", "什么时候"},
  };
  return kPairs;
}

std::string_view TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.substr(0, cut);
}

Matcher::Matcher(MatcherOptions options)
    : options_(std::move(options)),
      index_(std::make_unique<MemoryFaqIndex>(MakeAnalyzer(options_, std::make_shared<Lexicon>()),
                                              options_.bm25)) {}

void Matcher::SetLexiconEntries(LexiconEntries admin) {
  std::unique_lock lock(mu_);
  admin_ = std::move(admin);
}

void Matcher::Rebuild(const std::vector<Faq>& faqs, const LexiconEntries& admin) {
  SetLexiconEntries(admin);
  Rebuild(faqs);
}

void Matcher::Rebuild(const std::vector<Faq>& faqs) {
  LexiconEntries admin;
  {
    std::shared_lock lock(mu_);
    admin = admin_;
  }
  auto lexicon = std::make_shared<Lexicon>();
  if (options_.colloquial_synonyms) {
    for (const auto& [variant, canonical] : ColloquialSynonyms()) {
      lexicon->AddSynonym(FromUtf8(variant), FromUtf8(canonical));
    }
  }
  for (const auto& [variant, canonical] : admin.synonyms) {
    lexicon->AddSynonym(Normalize(variant).chars, Normalize(canonical).chars);
  }
  for (const std::string& w : admin.words)
    lexicon->AddWord(Normalize(w).chars);
  if (options_.learn_vocabulary) {
    std::vector<std::u32string> texts;
    for (const Faq& f : faqs) {
      if (!f.enabled) continue;
      NormalizedText n = Normalize(f.question);
      lexicon->ApplySynonyms(n.chars, n.begin, n.end);
      texts.push_back(std::move(n.chars));
      for (const std::string& q : f.similar_questions) {
        NormalizedText s = Normalize(q);
        lexicon->ApplySynonyms(s.chars, s.begin, s.end);
        texts.push_back(std::move(s.chars));
      }
    }
    for (LearnedWord& w : LearnVocabulary(texts, options_.vocabulary)) {
      lexicon->AddWord(std::move(w.word));
    }
  }
  auto index =
      std::make_unique<MemoryFaqIndex>(MakeAnalyzer(options_, std::move(lexicon)), options_.bm25);
  for (const Faq& f : faqs) {
    if (!f.id.empty()) (void)index->Upsert(f);
  }
  index->RefreshIdf();
  std::unique_lock lock(mu_);
  index_ = std::move(index);
}

Status Matcher::Upsert(const Faq& faq) {
  std::unique_lock lock(mu_);
  Status s = index_->Upsert(faq);
  index_->RefreshIdf();
  return s;
}

Status Matcher::Remove(std::string_view faq_id) {
  std::unique_lock lock(mu_);
  Status s = index_->Remove(faq_id);
  index_->RefreshIdf();
  return s;
}

size_t Matcher::faq_count() const {
  std::shared_lock lock(mu_);
  return index_->faq_count();
}

size_t Matcher::lexicon_word_count() const {
  std::shared_lock lock(mu_);
  return index_->analyzer().lexicon().word_count();
}

std::shared_ptr<const Analyzer> Matcher::analyzer() const {
  std::shared_lock lock(mu_);
  return MakeAnalyzer(options_, index_->analyzer().lexicon_ptr());
}

void Matcher::SetModel(const std::array<double, kFeatureCount>& weights,
                       const PlattCalibration& cal) {
  std::unique_lock lock(mu_);
  options_.rerank_weights = weights;
  options_.calibration = cal;
}

double Matcher::Confidence(double log_p, double margin, double coverage) const {
  const PlattCalibration& c = options_.calibration;
  const double z = c.bias + c.log_p * log_p + c.margin * margin + c.coverage * coverage;
  return 1.0 / (1.0 + std::exp(-z));
}

// Caller holds mu_ (shared).
std::vector<Matcher::Candidate> Matcher::Candidates(std::string_view query) const {
  const MemoryFaqIndex& index = *index_;
  const Analysis a = index.analyzer().Analyze(TruncateUtf8(query, options_.max_query_bytes));
  const std::vector<QueryTerm> q = index.PrepareQuery(a);
  std::vector<Candidate> out;
  if (q.empty()) return out;
  std::vector<QueryTerm> retrieval;
  if (options_.min_retrieval_idf > 0) {
    for (const QueryTerm& t : q) {
      if (t.idf >= options_.min_retrieval_idf) retrieval.push_back(t);
    }
  }
  const std::vector<ScoredDoc> top = index.TopK(
      options_.min_retrieval_idf > 0 && !retrieval.empty() ? retrieval : q, options_.candidates);
  if (top.empty()) return out;
  std::u32string qchars;
  for (char32_t c : a.text) {
    if (IsHan(c) || IsWordChar(c)) qchars.push_back(c);
  }
  const double k1 = options_.bm25.k1;
  double q_total[2] = {0, 0};
  double bm25_bound = 0;
  double q_words = 0;
  for (const QueryTerm& t : q) {
    const double w = t.weight * t.idf;
    bm25_bound += w * (k1 + 1);
    if (int s = Slot(t.cls); s >= 0) q_total[s] += w;
    if (t.word) q_words += 1;
  }
  const uint8_t q_type = QuestionTypeOf(qchars);
  const bool q_negated = IsNegated(qchars);
  const Bm25Options& bo = index.options();
  auto kind_weight = [&](TermClass c) {
    return c == TermClass::kChar ? bo.unigram_weight : bo.bigram_weight;
  };
  // IDF-weighted term vectors (sorted by term id) for cosine and centrality.
  auto doc_vector = [&](const IndexedDoc& d) {
    std::vector<std::pair<uint32_t, double>> v;
    v.reserve(d.terms.size());
    for (const DocTerm& dt : d.terms) {
      if (Slot(dt.cls) < 0) continue;
      v.emplace_back(dt.term, dt.filler * kind_weight(dt.cls) * index.Idf(dt.term));
    }
    return v;
  };
  auto cosine = [](const std::vector<std::pair<uint32_t, double>>& x,
                   const std::vector<std::pair<uint32_t, double>>& y) {
    double dot = 0, nx = 0, ny = 0;
    for (const auto& e : x)
      nx += e.second * e.second;
    for (const auto& e : y)
      ny += e.second * e.second;
    size_t j = 0;
    for (const auto& e : x) {
      while (j < y.size() && y[j].first < e.first)
        ++j;
      if (j < y.size() && y[j].first == e.first) dot += e.second * y[j].second;
    }
    return nx > 0 && ny > 0 ? dot / std::sqrt(nx * ny) : 0.0;
  };
  std::vector<std::pair<uint32_t, double>> qv;
  for (const QueryTerm& t : q) {
    if (t.term != kUnknownTerm && Slot(t.cls) >= 0) qv.emplace_back(t.term, t.weight * t.idf);
  }
  std::vector<std::vector<std::pair<uint32_t, double>>> dvs;
  dvs.reserve(top.size());
  for (const ScoredDoc& sd : top)
    dvs.push_back(doc_vector(index.doc(sd.doc)));
  constexpr size_t kCentralityPeers = 5;
  for (size_t rank = 0; rank < top.size(); ++rank) {
    const ScoredDoc& sd = top[rank];
    const IndexedDoc& d = index.doc(sd.doc);
    double q_hit[2] = {0, 0}, d_hit[2] = {0, 0}, d_total[2] = {0, 0};
    double d_words = 0, words_hit = 0;
    size_t qi = 0;
    for (const DocTerm& dt : d.terms) {
      if (dt.word) d_words += 1;
      const int s = Slot(dt.cls);
      if (s < 0) continue;
      const double dw = dt.filler * kind_weight(dt.cls) * index.Idf(dt.term);
      d_total[s] += dw;
      while (qi < q.size() && q[qi].term < dt.term)
        ++qi;
      if (qi < q.size() && q[qi].term == dt.term) {
        q_hit[s] += q[qi].weight * q[qi].idf;
        d_hit[s] += dw;
        if (dt.word) words_hit += 1;
      }
    }
    const double max_len = static_cast<double>(std::max(qchars.size(), d.chars.size()));
    Candidate c{sd.doc, sd.bm25, {}};
    auto ratio = [](double a_, double b_) { return b_ > 0 ? a_ / b_ : 0.0; };
    c.f[0] = ratio(sd.bm25, bm25_bound);
    c.f[1] = ratio(q_hit[0], q_total[0]);
    c.f[2] = ratio(d_hit[0], d_total[0]);
    c.f[3] = ratio(q_hit[1], q_total[1]);
    c.f[4] = ratio(d_hit[1], d_total[1]);
    c.f[5] = ratio(static_cast<double>(Lcs(qchars, d.chars, false)), max_len);
    c.f[6] = options_.rerank_weights[6] != 0
                 ? ratio(static_cast<double>(Lcs(qchars, d.chars, true)), max_len)
                 : c.f[5];
    c.f[7] =
        ratio(std::abs(static_cast<double>(qchars.size()) - static_cast<double>(d.chars.size())),
              max_len);
    c.f[8] = (!qchars.empty() && qchars == d.chars) ? 1.0 : 0.0;
    c.f[9] = ratio(words_hit, q_words);
    c.f[10] = ratio(words_hit, d_words);
    c.f[11] = q_negated == d.negated ? 1.0 : 0.0;
    if (q_type != 0 && d.question_type != 0) {
      c.f[12] = (q_type & d.question_type) != 0 ? 1.0 : -1.0;
    }
    c.f[13] = cosine(qv, dvs[rank]);
    double central = 0;
    size_t peers = 0;
    for (size_t o = 0; o < top.size() && peers < kCentralityPeers; ++o) {
      if (o == rank) continue;
      central += cosine(dvs[rank], dvs[o]);
      ++peers;
    }
    c.f[14] = peers > 0 ? central / static_cast<double>(peers) : 0.0;
    c.f[15] = 1.0 / static_cast<double>(rank + 1);
    out.push_back(c);
  }
  return out;
}

std::vector<FaqMatch> Matcher::Match(std::string_view query, size_t k) const {
  std::shared_lock lock(mu_);
  std::vector<Candidate> cands = Candidates(query);
  std::unordered_map<std::string_view, size_t> best;  // faq_id -> index in out
  std::vector<FaqMatch> out;
  std::vector<bool> exact;
  std::vector<double> coverage;
  for (const Candidate& c : cands) {
    double s = 0;
    for (size_t i = 0; i < kFeatureCount; ++i)
      s += options_.rerank_weights[i] * c.f[i];
    const IndexedDoc& d = index_->doc(c.doc);
    auto [it, inserted] = best.try_emplace(d.faq_id, out.size());
    if (inserted) {
      out.push_back({d.faq_id, d.question, s, 0, c.bm25});
      exact.push_back(c.f[8] > 0);
      coverage.push_back(c.f[1]);
    } else if (s > out[it->second].score) {
      out[it->second] = {d.faq_id, d.question, s, 0, c.bm25};
      coverage[it->second] = c.f[1];
      exact[it->second] = exact[it->second] || c.f[8] > 0;
    } else if (c.f[8] > 0) {
      exact[it->second] = true;
    }
  }
  std::vector<size_t> order(out.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return out[a].score > out[b].score; });
  double lse = 0;
  if (!order.empty()) {
    const double top = out[order[0]].score;
    double sum = 0;
    for (const FaqMatch& m : out)
      sum += std::exp(m.score - top);
    lse = top + std::log(sum);
  }
  std::vector<FaqMatch> sorted;
  sorted.reserve(std::min(k, order.size()));
  for (size_t r = 0; r < order.size() && r < k; ++r) {
    FaqMatch m = out[order[r]];
    const double next = r + 1 < order.size() ? out[order[r + 1]].score : 0.0;
    m.confidence = Confidence(m.score - lse, r == 0 ? m.score - next : 0.0, coverage[order[r]]);
    if (coverage[order[r]] < options_.evidence_coverage) {
      m.confidence *= coverage[order[r]] / options_.evidence_coverage;
    }
    // An indexed question matched verbatim (after normalisation) is the FAQ's own phrasing:
    // certain unless another FAQ carries the same question.
    const bool runner_up_exact = r + 1 < order.size() && exact[order[r + 1]];
    if (r == 0 && exact[order[r]] && !runner_up_exact) {
      m.confidence = std::max(m.confidence, kExactMatchConfidence);
    }
    sorted.push_back(std::move(m));
  }
  return sorted;
}

std::vector<CandidateFeatures> Matcher::Explain(std::string_view query, size_t n) const {
  std::shared_lock lock(mu_);
  std::vector<CandidateFeatures> out;
  for (const Candidate& c : Candidates(query)) {
    const IndexedDoc& d = index_->doc(c.doc);
    out.push_back({d.faq_id, d.question, c.f});
    if (out.size() >= n) break;
  }
  return out;
}

}  // namespace kefu::knowledge
