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
        const std::string& pa = PinyinOf(a[i - 1]);
        eq = !pa.empty() && pa == PinyinOf(b[j - 1]);
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

void Matcher::Rebuild(const std::vector<Faq>& faqs, const LexiconEntries& admin) {
  auto lexicon = std::make_shared<Lexicon>();
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
  std::unique_lock lock(mu_);
  index_ = std::move(index);
}

Status Matcher::Upsert(const Faq& faq) {
  std::unique_lock lock(mu_);
  return index_->Upsert(faq);
}

Status Matcher::Remove(std::string_view faq_id) {
  std::unique_lock lock(mu_);
  return index_->Remove(faq_id);
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

double Matcher::Confidence(double score, double margin) const {
  const PlattCalibration& c = options_.calibration;
  const double z = c.bias + c.score * score + c.margin * margin;
  return 1.0 / (1.0 + std::exp(-z));
}

// Caller holds mu_ (shared).
std::vector<Matcher::Candidate> Matcher::Candidates(std::string_view query) const {
  const MemoryFaqIndex& index = *index_;
  const Analysis a = index.analyzer().Analyze(TruncateUtf8(query, options_.max_query_bytes));
  const std::vector<QueryTerm> q = index.PrepareQuery(a);
  std::vector<Candidate> out;
  if (q.empty()) return out;
  const std::vector<ScoredDoc> top = index.TopK(q, options_.candidates);
  if (top.empty()) return out;
  std::u32string qchars;
  for (char32_t c : a.text) {
    if (IsHan(c) || IsWordChar(c)) qchars.push_back(c);
  }
  const double k1 = options_.bm25.k1;
  double q_total[2] = {0, 0};
  double bm25_bound = 0;
  for (const QueryTerm& t : q) {
    const double w = t.weight * t.idf;
    bm25_bound += w * (k1 + 1);
    if (int s = Slot(t.cls); s >= 0) q_total[s] += w;
  }
  const Bm25Options& bo = index.options();
  auto kind_weight = [&](TermClass c) {
    return c == TermClass::kChar ? bo.unigram_weight : bo.bigram_weight;
  };
  for (const ScoredDoc& sd : top) {
    const IndexedDoc& d = index.doc(sd.doc);
    double q_hit[2] = {0, 0}, d_hit[2] = {0, 0}, d_total[2] = {0, 0};
    size_t qi = 0;
    for (const DocTerm& dt : d.terms) {
      const int s = Slot(dt.cls);
      if (s < 0) continue;
      const double dw = dt.filler * kind_weight(dt.cls) * index.Idf(dt.term);
      d_total[s] += dw;
      while (qi < q.size() && q[qi].term < dt.term)
        ++qi;
      if (qi < q.size() && q[qi].term == dt.term) {
        q_hit[s] += q[qi].weight * q[qi].idf;
        d_hit[s] += dw;
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
    out.push_back(c);
  }
  return out;
}

std::vector<FaqMatch> Matcher::Match(std::string_view query, size_t k) const {
  std::shared_lock lock(mu_);
  std::vector<Candidate> cands = Candidates(query);
  std::unordered_map<std::string_view, size_t> best;  // faq_id -> index in out
  std::vector<FaqMatch> out;
  for (const Candidate& c : cands) {
    double s = 0;
    for (size_t i = 0; i < kFeatureCount; ++i)
      s += options_.rerank_weights[i] * c.f[i];
    const IndexedDoc& d = index_->doc(c.doc);
    auto [it, inserted] = best.try_emplace(d.faq_id, out.size());
    if (inserted) {
      out.push_back({d.faq_id, d.question, s, 0, c.bm25});
    } else if (s > out[it->second].score) {
      out[it->second] = {d.faq_id, d.question, s, 0, c.bm25};
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const FaqMatch& a, const FaqMatch& b) { return a.score > b.score; });
  for (size_t i = 0; i < out.size(); ++i) {
    const double margin = i + 1 < out.size() ? out[i].score - out[i + 1].score : out[i].score;
    out[i].confidence = Confidence(out[i].score, i == 0 ? margin : 0.0);
  }
  if (out.size() > k) out.resize(k);
  return out;
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
