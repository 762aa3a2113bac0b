#include "knowledge/matcher.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>

#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

// Longest common subsequence of `a` and `b`: plain (equal characters) and homophone-aware
// (equal HomophoneKey), in one pass with per-thread rows.
std::pair<size_t, size_t> Lcs(const std::u32string& a, const std::vector<uint32_t>& a_sound,
                              const std::u32string& b, const std::vector<uint32_t>& b_sound) {
  if (a.empty() || b.empty()) return {0, 0};
  thread_local std::vector<uint32_t> rows;
  const size_t m = b.size() + 1;
  rows.assign(4 * m, 0);
  uint32_t* prev = rows.data();
  uint32_t* cur = prev + m;
  uint32_t* hprev = cur + m;
  uint32_t* hcur = hprev + m;
  for (size_t i = 1; i <= a.size(); ++i) {
    const char32_t ca = a[i - 1];
    const uint32_t sa = a_sound[i - 1];
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = ca == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
      hcur[j] = sa == b_sound[j - 1] ? hprev[j - 1] + 1 : std::max(hprev[j], hcur[j - 1]);
    }
    std::swap(prev, cur);
    std::swap(hprev, hcur);
  }
  return {prev[b.size()], hprev[b.size()]};
}

struct WeightedTerm {
  uint32_t term;
  double weight;
};

double Norm(const WeightedTerm* x, const WeightedTerm* xe) {
  double n = 0;
  for (; x != xe; ++x)
    n += x->weight * x->weight;
  return std::sqrt(n);
}

// Open-addressing table from term id to the query weight and the peer weights of that term;
// per thread, cleared per query in O(used slots).
class ProbeTable {
 public:
  static constexpr size_t kPeers = 6;
  struct Entry {
    uint32_t term = kUnknownTerm;
    double query = 0;
    bool in_query = false;
    std::array<double, kPeers> peer{};
  };
  // Empties the table and sizes it for `n` distinct terms.
  void Reset(size_t n) {
    for (size_t i : used_)
      slots_[i] = Entry{};
    used_.clear();
    size_t size = 64;
    while (size < 2 * n)
      size *= 2;
    if (slots_.size() < size) slots_.assign(size, Entry{});
    mask_ = slots_.size() - 1;
  }
  Entry& At(uint32_t term) {
    size_t i = Hash(term);
    while (slots_[i].term != kUnknownTerm && slots_[i].term != term)
      i = (i + 1) & mask_;
    if (slots_[i].term == kUnknownTerm) {
      slots_[i].term = term;
      used_.push_back(i);
    }
    return slots_[i];
  }
  const Entry* Find(uint32_t term) const {
    size_t i = Hash(term);
    while (slots_[i].term != kUnknownTerm) {
      if (slots_[i].term == term) return &slots_[i];
      i = (i + 1) & mask_;
    }
    return nullptr;
  }

 private:
  size_t Hash(uint32_t term) const { return (term * 2654435761u) & mask_; }
  std::vector<Entry> slots_;
  std::vector<size_t> used_;
  size_t mask_ = 0;
};

ProbeTable& ThreadProbeTable() {
  thread_local ProbeTable table;
  return table;
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

void Matcher::SetModel(const std::array<double, kFeatureCount>& weights, const HiddenLayer& hidden,
                       const PlattCalibration& cal) {
  std::unique_lock lock(mu_);
  options_.rerank_weights = weights;
  options_.hidden = hidden;
  options_.calibration = cal;
}

double Matcher::RerankScore(const std::array<double, kFeatureCount>& f) const {
  double s = 0;
  for (size_t i = 0; i < kFeatureCount; ++i)
    s += options_.rerank_weights[i] * f[i];
  const HiddenLayer& h = options_.hidden;
  for (size_t j = 0; j < kHiddenUnits; ++j) {
    if (h.out[j] == 0) continue;
    double a = h.bias[j];
    for (size_t i = 0; i < kFeatureCount; ++i)
      a += h.in[j][i] * f[i];
    s += h.out[j] * std::tanh(a);
  }
  return s;
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
  // Per-thread scratch, reused across queries.
  thread_local std::u32string qchars;
  thread_local std::vector<uint32_t> qsounds;
  thread_local std::vector<WeightedTerm> qv;
  thread_local std::vector<WeightedTerm> dv;  // the candidates' vectors, back to back
  thread_local std::vector<size_t> dv_begin;
  thread_local std::vector<double> dv_norm;
  qchars.clear();
  qsounds.clear();
  for (char32_t c : a.text) {
    if (IsHan(c) || IsWordChar(c)) {
      qchars.push_back(c);
      qsounds.push_back(HomophoneKey(c));
    }
  }
  const double k1 = options_.bm25.k1;
  double q_total[2] = {0, 0};
  double bm25_bound = 0;
  double q_words = 0;
  double q_char_terms = 0;  // distinct query characters, known to the index or not
  qv.clear();
  for (const QueryTerm& t : q) {
    const double w = t.weight * t.idf;
    bm25_bound += w * (k1 + 1);
    const int s = Slot(t.cls);
    if (s >= 0) q_total[s] += w;
    if (t.word) q_words += 1;
    if (t.cls == TermClass::kChar) q_char_terms += 1;
    if (t.term != kUnknownTerm && s >= 0) qv.push_back({t.term, w});
  }
  const double qv_norm = Norm(qv.data(), qv.data() + qv.size());
  const uint8_t q_type = QuestionTypeOf(qchars);
  const bool q_negated = IsNegated(qchars);
  const Bm25Options& bo = index.options();
  const double kind_weight[2] = {bo.unigram_weight, bo.bigram_weight};
  // IDF-weighted term vectors (sorted by term id) for cosine and centrality.
  dv.clear();
  dv_begin.assign(1, 0);
  dv_norm.clear();
  for (const ScoredDoc& sd : top) {
    const size_t from = dv.size();
    for (const DocTerm& dt : index.doc(sd.doc).terms) {
      const int s = Slot(dt.cls);
      if (s < 0) continue;
      dv.push_back({dt.term, dt.filler * kind_weight[s] * index.Idf(dt.term)});
    }
    dv_begin.push_back(dv.size());
    dv_norm.push_back(Norm(dv.data() + from, dv.data() + dv.size()));
  }
  // One probe table holds the query's weights and those of the centrality peers (the best
  // kPeers + 1 candidates), so each candidate needs a single pass over its own terms for its
  // query overlap, its query cosine and its cosines to the peers.
  constexpr size_t kCentralityPeers = 5;
  const size_t peers = std::min(top.size(), kCentralityPeers + 1);
  ProbeTable& table = ThreadProbeTable();
  table.Reset(qv.size() + dv_begin[peers]);
  for (const WeightedTerm& t : qv) {
    ProbeTable::Entry& entry = table.At(t.term);
    entry.query = t.weight;
    entry.in_query = true;
  }
  for (size_t o = 0; o < peers; ++o) {
    for (size_t i = dv_begin[o]; i < dv_begin[o + 1]; ++i)
      table.At(dv[i].term).peer[o] = dv[i].weight;
  }
  out.reserve(top.size());
  for (size_t rank = 0; rank < top.size(); ++rank) {
    const ScoredDoc& sd = top[rank];
    const IndexedDoc& d = index.doc(sd.doc);
    const WeightedTerm* w = dv.data() + dv_begin[rank];
    double q_hit[2] = {0, 0}, d_hit[2] = {0, 0}, d_total[2] = {0, 0};
    double d_words = 0, words_hit = 0;
    double d_char_terms = 0, chars_hit = 0;  // distinct characters; unweighted
    double q_dot = 0;
    std::array<double, kCentralityPeers + 1> peer_dot{};
    for (const DocTerm& dt : d.terms) {
      if (dt.word) d_words += 1;
      const int s = Slot(dt.cls);
      if (s < 0) continue;
      const double dw = (w++)->weight;
      d_total[s] += dw;
      if (s == 0) d_char_terms += 1;
      const ProbeTable::Entry* hit = table.Find(dt.term);
      if (hit == nullptr) continue;
      for (size_t o = 0; o < peers; ++o)
        peer_dot[o] += dw * hit->peer[o];
      if (hit->in_query) {
        q_dot += dw * hit->query;
        q_hit[s] += hit->query;
        d_hit[s] += dw;
        if (dt.word) words_hit += 1;
        if (s == 0) chars_hit += 1;
      }
    }
    const double max_len = static_cast<double>(std::max(qchars.size(), d.chars.size()));
    Candidate c{sd.doc, sd.bm25, {}};
    auto ratio = [](double a_, double b_) { return b_ > 0 ? a_ / b_ : 0.0; };
    const auto [lcs, homophone_lcs] = Lcs(qchars, qsounds, d.chars, d.homophones);
    c.f[0] = ratio(sd.bm25, bm25_bound);
    c.f[1] = ratio(q_hit[0], q_total[0]);
    c.f[2] = ratio(d_hit[0], d_total[0]);
    c.f[3] = ratio(q_hit[1], q_total[1]);
    c.f[4] = ratio(d_hit[1], d_total[1]);
    c.f[5] = ratio(static_cast<double>(lcs), max_len);
    c.f[6] = ratio(static_cast<double>(homophone_lcs), max_len);
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
    auto cosine = [](double dot, double nx, double ny) {
      return nx > 0 && ny > 0 ? dot / (nx * ny) : 0.0;
    };
    c.f[13] = cosine(q_dot, qv_norm, dv_norm[rank]);
    double central = 0;
    size_t n_peers = 0;
    for (size_t o = 0; o < peers && n_peers < kCentralityPeers; ++o) {
      if (o == rank) continue;
      central += cosine(peer_dot[o], dv_norm[rank], dv_norm[o]);
      ++n_peers;
    }
    c.f[14] = n_peers > 0 ? central / static_cast<double>(n_peers) : 0.0;
    c.f[15] = 1.0 / static_cast<double>(rank + 1);
    // Unweighted shares of distinct characters found on the other side: a frequent character
    // that carries the topic counts as much as a rare one (the coverages above are IDF-weighted).
    c.f[16] = ratio(chars_hit, q_char_terms);
    c.f[17] = ratio(chars_hit, d_char_terms);
    out.push_back(c);
  }
  return out;
}

std::vector<FaqMatch> Matcher::Match(std::string_view query, size_t k) const {
  std::shared_lock lock(mu_);
  std::vector<Candidate> cands = Candidates(query);
  // One entry per FAQ (its best question); strings are copied only for the returned top k.
  struct Scored {
    uint32_t doc;
    double score;
    double bm25;
  };
  std::vector<Scored> out;
  std::vector<size_t> id_hash;  // hash of each entry's faq_id, compared before the string
  std::vector<bool> exact;
  std::vector<double> coverage;
  out.reserve(cands.size());
  for (const Candidate& c : cands) {
    const double s = RerankScore(c.f);
    const std::string& faq_id = index_->doc(c.doc).faq_id;
    const size_t h = std::hash<std::string>{}(faq_id);
    size_t at = 0;
    while (at < out.size() && (id_hash[at] != h || index_->doc(out[at].doc).faq_id != faq_id))
      ++at;
    if (at == out.size()) {
      out.push_back({c.doc, s, c.bm25});
      id_hash.push_back(h);
      exact.push_back(c.f[8] > 0);
      coverage.push_back(c.f[1]);
    } else if (s > out[at].score) {
      out[at] = {c.doc, s, c.bm25};
      coverage[at] = c.f[1];
      exact[at] = exact[at] || c.f[8] > 0;
    } else if (c.f[8] > 0) {
      exact[at] = true;
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
    for (const Scored& m : out)
      sum += std::exp(m.score - top);
    lse = top + std::log(sum);
  }
  std::vector<FaqMatch> sorted;
  sorted.reserve(std::min(k, order.size()));
  for (size_t r = 0; r < order.size() && r < k; ++r) {
    const Scored& best = out[order[r]];
    const IndexedDoc& d = index_->doc(best.doc);
    FaqMatch m{d.faq_id, d.question, best.score, 0, best.bm25};
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
