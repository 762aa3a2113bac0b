// kefu_knowledge_eval: the quality harness for the matcher on faq-dev style files.
//
//   kefu_knowledge_eval --faq F --queries Q [--adjudicated A] [--tune] [--bm25-only]
//                       [--no-vocab] [--no-icu] [--pinyin] [--no-fillers] [--candidates N]
//
// Prints the eval JSON, the reliability table and (with --tune) the reranker weights found by
// coordinate ascent on strict MRR@10 (with a 2-fold check) and the two-stage Platt calibration.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "knowledge/eval.h"
#include "knowledge/matcher.h"
#include "knowledge/text_normalizer.h"

namespace kk = kefu::knowledge;

namespace {

using Weights = std::vector<double>;

struct QueryCands {
  std::string gold;
  std::vector<std::string> faq;  // per candidate doc
  std::vector<std::vector<double>> f;
  // Unit IDF-weighted character vectors of the candidates (sorted by character), for --prop.
  std::vector<std::vector<std::pair<char32_t, double>>> vec;
  // Training positives besides the gold (--soft): near-duplicates of the gold question.
  std::vector<uint8_t> pos;
};

struct Ranked {
  double mrr = 0, top1 = 0, r5 = 0;
};

// Scores one query: returns rank of gold (0-based) or -1; fills top1 score/margin.
int RankOf(const QueryCands& q, const Weights& w, double* s1 = nullptr, double* margin = nullptr,
           std::string* top_id = nullptr, double* log_p = nullptr, double* cov = nullptr) {
  std::unordered_map<std::string, double> best;
  std::unordered_map<std::string, double> best_cov;
  std::vector<std::pair<double, const std::string*>> order;
  for (size_t i = 0; i < q.faq.size(); ++i) {
    double s = 0;
    for (size_t k = 0; k < w.size(); ++k)
      s += w[k] * q.f[i][k];
    auto [it, ins] = best.try_emplace(q.faq[i], s);
    if (ins || s >= it->second) best_cov[q.faq[i]] = q.f[i][1];
    if (!ins) it->second = std::max(it->second, s);
  }
  for (const auto& [id, s] : best)
    order.emplace_back(s, &id);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  if (s1) *s1 = order.empty() ? 0 : order[0].first;
  if (margin) {
    *margin =
        order.size() > 1 ? order[0].first - order[1].first : (order.empty() ? 0 : order[0].first);
  }
  if (top_id) *top_id = order.empty() ? "" : *order[0].second;
  if (log_p && !order.empty()) {
    double sum = 0;
    for (const auto& o : order)
      sum += std::exp(o.first - order[0].first);
    *log_p = -std::log(sum);
  }
  if (cov && !order.empty()) *cov = best_cov[*order[0].second];
  for (size_t r = 0; r < order.size(); ++r) {
    if (*order[r].second == q.gold) return static_cast<int>(r);
  }
  return -1;
}

Ranked Score(const std::vector<QueryCands>& qs, const Weights& w, int fold, int folds,
             bool in_fold) {
  Ranked out;
  size_t n = 0;
  for (size_t i = 0; i < qs.size(); ++i) {
    const bool member = folds <= 1 || static_cast<int>(i % static_cast<size_t>(folds)) == fold;
    if (member != in_fold) continue;
    ++n;
    const int r = RankOf(qs[i], w);
    if (r == 0) out.top1 += 1;
    if (r >= 0 && r < 5) out.r5 += 1;
    if (r >= 0 && r < 10) out.mrr += 1.0 / (r + 1);
  }
  if (n > 0) {
    out.mrr /= static_cast<double>(n);
    out.top1 /= static_cast<double>(n);
    out.r5 /= static_cast<double>(n);
  }
  return out;
}

double Objective(const Ranked& r) {
  return r.mrr + 0.5 * r.r5;
}

Weights Tune(const std::vector<QueryCands>& qs, Weights w, int fold, int folds) {
  // Training set: queries NOT in `fold` (or all when folds <= 1).
  auto obj = [&](const Weights& x) { return Objective(Score(qs, x, fold, folds, folds <= 1)); };
  double best = obj(w);
  const double steps[] = {0.5, 0.2, 0.1, 0.05};
  for (double step : steps) {
    for (int pass = 0; pass < 3; ++pass) {
      bool improved = false;
      for (size_t k = 1; k < w.size(); ++k) {  // w[0] (bm25) fixed as the scale
        for (double dir : {-1.0, 1.0}) {
          Weights x = w;
          x[k] += dir * step;
          const double v = obj(x);
          if (v > best + 1e-9) {
            best = v;
            w = x;
            improved = true;
          }
        }
      }
      if (!improved) break;
    }
  }
  return w;
}

// Logistic regression by Newton's method on rows x (with bias), labels y.
std::vector<double> FitLogistic(const std::vector<std::vector<double>>& x,
                                const std::vector<int>& y, double l2) {
  const size_t d = x.empty() ? 0 : x[0].size();
  std::vector<double> b(d, 0.0);
  for (int it = 0; it < 50; ++it) {
    std::vector<double> g(d, 0.0);
    std::vector<std::vector<double>> h(d, std::vector<double>(d, 0.0));
    for (size_t i = 0; i < x.size(); ++i) {
      double z = 0;
      for (size_t k = 0; k < d; ++k)
        z += b[k] * x[i][k];
      const double p = 1 / (1 + std::exp(-z));
      for (size_t k = 0; k < d; ++k) {
        g[k] += (p - y[i]) * x[i][k];
        for (size_t l = 0; l < d; ++l)
          h[k][l] += p * (1 - p) * x[i][k] * x[i][l];
      }
    }
    for (size_t k = 1; k < d; ++k) {
      g[k] += l2 * b[k];
      h[k][k] += l2;
    }
    for (size_t k = 0; k < d; ++k)
      h[k][k] += 1e-9;
    // Solve h * delta = g (Gauss-Jordan, d <= 4).
    std::vector<std::vector<double>> a = h;
    std::vector<double> r = g;
    for (size_t c = 0; c < d; ++c) {
      size_t piv = c;
      for (size_t rr = c + 1; rr < d; ++rr) {
        if (std::abs(a[rr][c]) > std::abs(a[piv][c])) piv = rr;
      }
      std::swap(a[c], a[piv]);
      std::swap(r[c], r[piv]);
      for (size_t rr = 0; rr < d; ++rr) {
        if (rr == c) continue;
        const double f = a[rr][c] / a[c][c];
        for (size_t k = c; k < d; ++k)
          a[rr][k] -= f * a[c][k];
        r[rr] -= f * r[c];
      }
    }
    double step = 0;
    for (size_t k = 0; k < d; ++k) {
      const double delta = r[k] / a[k][k];
      b[k] -= delta;
      step += std::abs(delta);
    }
    if (step < 1e-8) break;
  }
  return b;
}

uint64_t g_mlp_seed = 12345;
double g_l2 = 1e-3;
int g_epochs = 300;

// Listwise (ListNet-style) fit: softmax cross-entropy of the gold candidate, Adam, L2.
// `parity` -1 trains on every query, 0 on the even-numbered ones, 1 on the odd ones.
Weights FitListwise(const std::vector<QueryCands>& qs, size_t dims, int parity) {
  Weights w(dims, 0.0), m(dims, 0.0), v(dims, 0.0), g(dims, 0.0);
  const double lr = 0.05, l2 = g_l2;
  std::vector<double> sc;
  for (int it = 1; it <= g_epochs; ++it) {
    std::fill(g.begin(), g.end(), 0.0);
    size_t used = 0;
    for (size_t qi = 0; qi < qs.size(); ++qi) {
      if (parity >= 0 && static_cast<int>(qi % 2) != parity) continue;
      const auto& q = qs[qi];
      size_t gi = q.faq.size();
      for (size_t i = 0; i < q.faq.size(); ++i) {
        if (q.faq[i] == q.gold) gi = i;
      }
      if (gi == q.faq.size()) continue;
      ++used;
      sc.assign(q.faq.size(), 0.0);
      double mx = -1e300;
      for (size_t i = 0; i < q.faq.size(); ++i) {
        double x = 0;
        for (size_t k = 0; k < dims; ++k)
          x += w[k] * q.f[i][k];
        sc[i] = x;
        mx = std::max(mx, x);
      }
      double z = 0;
      for (double& x : sc)
        z += (x = std::exp(x - mx));
      double zp = 0;
      for (size_t i = 0; i < q.faq.size(); ++i) {
        if (i == gi || (!q.pos.empty() && q.pos[i])) zp += sc[i];
      }
      for (size_t i = 0; i < q.faq.size(); ++i) {
        const bool positive = i == gi || (!q.pos.empty() && q.pos[i]);
        const double p = sc[i] / z - (positive ? sc[i] / zp : 0.0);
        for (size_t k = 0; k < dims; ++k)
          g[k] += p * q.f[i][k];
      }
    }
    for (size_t k = 0; k < dims; ++k) {
      const double gk = g[k] / static_cast<double>(std::max<size_t>(1, used)) + l2 * w[k];
      m[k] = 0.9 * m[k] + 0.1 * gk;
      v[k] = 0.999 * v[k] + 0.001 * gk * gk;
      const double mh = m[k] / (1 - std::pow(0.9, it));
      const double vh = v[k] / (1 - std::pow(0.999, it));
      w[k] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
  }
  return w;
}

double Dot(const std::vector<std::pair<char32_t, double>>& a,
           const std::vector<std::pair<char32_t, double>>& b) {
  double d = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].first < b[j].first) {
      ++i;
    } else if (b[j].first < a[i].first) {
      ++j;
    } else {
      d += a[i++].second * b[j++].second;
    }
  }
  return d;
}

// Score propagation: appends to every candidate sum_j p_j cos(i, j) over the other candidates,
// p the softmax of the first-stage model `w`.
std::vector<QueryCands> AddPropagation(const std::vector<QueryCands>& qs, const Weights& w) {
  std::vector<QueryCands> out = qs;
  std::vector<double> p;
  for (auto& q : out) {
    const size_t n = q.faq.size();
    p.assign(n, 0.0);
    double mx = -1e300;
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < w.size(); ++k)
        p[i] += w[k] * q.f[i][k];
      mx = std::max(mx, p[i]);
    }
    double z = 0;
    for (double& x : p)
      z += (x = std::exp(x - mx));
    for (double& x : p)
      x /= z;
    for (size_t i = 0; i < n; ++i) {
      double s = 0;
      for (size_t j = 0; j < n; ++j) {
        if (j != i) s += p[j] * Dot(q.vec[i], q.vec[j]);
      }
      q.f[i].push_back(s);
    }
  }
  return out;
}

// Adjudicated top-1 (and unjudged top-1) over the adjudicated queries whose index has
// `parity` (-1: all).
std::pair<double, double> AdjTop1(const std::vector<QueryCands>& qs, const Weights& w,
                                  const std::vector<kk::Adjudication>& adj, int parity) {
  size_t n = 0, ok = 0, unjudged = 0;
  for (const auto& a : adj) {
    if (a.query_index >= qs.size()) continue;
    if (parity >= 0 && static_cast<int>(a.query_index % 2) != parity) continue;
    ++n;
    std::string top;
    RankOf(qs[a.query_index], w, nullptr, nullptr, &top);
    if (a.equivalent.contains(top)) {
      ++ok;
    } else if (!a.judged.contains(top)) {
      ++unjudged;
    }
  }
  return {n ? static_cast<double>(ok) / n : 0.0, n ? static_cast<double>(unjudged) / n : 0.0};
}

// Score of one candidate under a small nonlinear model: linear part w plus `hidden` tanh units
// (weights u: hidden x dims, biases c, output v).
struct Mlp {
  size_t dims = 0, hidden = 0;
  std::vector<double> w, u, c, v;
  double Score(const std::vector<double>& x, std::vector<double>* h = nullptr) const {
    double s = 0;
    for (size_t k = 0; k < dims; ++k)
      s += w[k] * x[k];
    for (size_t j = 0; j < hidden; ++j) {
      double a = c[j];
      for (size_t k = 0; k < dims; ++k)
        a += u[j * dims + k] * x[k];
      const double t = std::tanh(a);
      if (h) (*h)[j] = t;
      s += v[j] * t;
    }
    return s;
  }
};

// Listwise fit of Mlp (Adam, L2) starting from the linear weights `w0`; parity as FitListwise.
Mlp FitMlp(const std::vector<QueryCands>& qs, const Weights& w0, size_t hidden, int parity,
           int epochs, double l2) {
  Mlp m;
  m.dims = w0.size();
  m.hidden = hidden;
  m.w = w0;
  m.u.assign(hidden * m.dims, 0.0);
  m.c.assign(hidden, 0.0);
  m.v.assign(hidden, 0.0);
  uint64_t seed = g_mlp_seed;
  auto rnd = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(seed >> 11) / 9007199254740992.0 - 0.5) * 0.2;
  };
  for (double& x : m.u)
    x = rnd();
  for (double& x : m.v)
    x = rnd();
  const size_t np = m.dims + hidden * m.dims + 2 * hidden;
  std::vector<double> g(np), am(np, 0.0), av(np, 0.0);
  auto param = [&](size_t i) -> double& {
    if (i < m.dims) return m.w[i];
    i -= m.dims;
    if (i < m.u.size()) return m.u[i];
    i -= m.u.size();
    if (i < hidden) return m.c[i];
    return m.v[i - hidden];
  };
  std::vector<double> sc;
  std::vector<std::vector<double>> hs;
  const double lr = 0.02;
  for (int it = 1; it <= epochs; ++it) {
    std::fill(g.begin(), g.end(), 0.0);
    size_t used = 0;
    for (size_t qi = 0; qi < qs.size(); ++qi) {
      if (parity >= 0 && static_cast<int>(qi % 2) != parity) continue;
      const auto& q = qs[qi];
      size_t gi = q.faq.size();
      for (size_t i = 0; i < q.faq.size(); ++i) {
        if (q.faq[i] == q.gold) gi = i;
      }
      if (gi == q.faq.size()) continue;
      ++used;
      sc.assign(q.faq.size(), 0.0);
      hs.assign(q.faq.size(), std::vector<double>(hidden));
      double mx = -1e300;
      for (size_t i = 0; i < q.faq.size(); ++i) {
        sc[i] = m.Score(q.f[i], &hs[i]);
        mx = std::max(mx, sc[i]);
      }
      double z = 0;
      for (double& x : sc)
        z += (x = std::exp(x - mx));
      for (size_t i = 0; i < q.faq.size(); ++i) {
        const double p = sc[i] / z - (i == gi ? 1.0 : 0.0);
        for (size_t k = 0; k < m.dims; ++k)
          g[k] += p * q.f[i][k];
        for (size_t j = 0; j < hidden; ++j) {
          const double t = hs[i][j];
          g[m.dims + m.u.size() + hidden + j] += p * t;
          const double d = p * m.v[j] * (1 - t * t);
          g[m.dims + m.u.size() + j] += d;
          for (size_t k = 0; k < m.dims; ++k)
            g[m.dims + j * m.dims + k] += d * q.f[i][k];
        }
      }
    }
    for (size_t k = 0; k < np; ++k) {
      double& x = param(k);
      const double gk = g[k] / static_cast<double>(std::max<size_t>(1, used)) + l2 * x;
      am[k] = 0.9 * am[k] + 0.1 * gk;
      av[k] = 0.999 * av[k] + 0.001 * gk * gk;
      const double mh = am[k] / (1 - std::pow(0.9, it));
      const double vh = av[k] / (1 - std::pow(0.999, it));
      x -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
  }
  return m;
}

// Strict metrics and adjudicated top-1 of an Mlp over queries of `parity` (-1: all).
void ReportMlp(const char* label, const std::vector<QueryCands>& qs, const Mlp& m,
               const std::vector<kk::Adjudication>& adj, int parity) {
  // Fold the model into per-candidate scores by ranking with a one-feature linear model.
  std::vector<QueryCands> one;
  one.reserve(qs.size());
  for (const auto& q : qs) {
    QueryCands c;
    c.gold = q.gold;
    c.faq = q.faq;
    for (const auto& x : q.f)
      c.f.push_back({m.Score(x)});
    one.push_back(std::move(c));
  }
  const Weights w1 = {1.0};
  const Ranked r = parity < 0 ? Score(one, w1, 0, 1, true) : Score(one, w1, parity, 2, true);
  const auto [a1, un] = AdjTop1(one, w1, adj, parity);
  std::printf("%s: mrr %.4f top1 %.4f r5 %.4f adj_top1 %.4f unjudged %.4f\n", label, r.mrr, r.top1,
              r.r5, a1, un);
}

// Experimental features computed here from the normalised query and question characters and
// the base's character IDF, appended to the matcher's features.
struct CharIdf {
  std::unordered_map<char32_t, double> idf;
  double unknown = 0;
  double operator()(char32_t c) const {
    auto it = idf.find(c);
    return it == idf.end() ? unknown : it->second;
  }
};

std::u32string ContentChars(const kk::Analyzer& an, const std::string& text) {
  std::u32string out;
  for (char32_t c : an.Analyze(text).text) {
    if (kk::IsHan(c) || kk::IsWordChar(c)) out.push_back(c);
  }
  return out;
}

constexpr const char* kExtraNames[] = {"lcstr",        "idf_lcs",    "miss_q",       "miss_d",
                                       "bigram_order", "rarest_hit", "conflict_max", "conflict_sum",
                                       "uw_qcov",      "uw_dcov",    "word_swap",    "sqrt_qcov"};
constexpr size_t kExtraCount = std::size(kExtraNames);

// Distributional similarity of words learned from the FAQ base itself: each word (analyzer kWord
// token) is described by the characters to its left and right (PPMI-weighted, unit length), so
// words that fill the same slot ("X额度", "X逾期") are similar. A query word missing from the
// question while a similar, different word fills its slot there signals a conflicting entity or
// action.
struct WordSlots {
  std::unordered_map<std::u32string, std::unordered_map<uint32_t, double>> vec;
  double Sim(const std::u32string& a, const std::u32string& b) const {
    auto ia = vec.find(a), ib = vec.find(b);
    if (ia == vec.end() || ib == vec.end()) return 0;
    double dot = 0;
    for (const auto& [k, x] : ia->second) {
      auto it = ib->second.find(k);
      if (it != ib->second.end()) dot += x * it->second;
    }
    return dot;
  }
};

std::vector<std::u32string> WordsOf(const kk::Analysis& a) {
  std::vector<std::u32string> out;
  for (const auto& t : a.tokens) {
    if (t.kind == kk::TokenKind::kWord) out.push_back(kk::FromUtf8(t.text));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

WordSlots LearnSlots(const kk::Analyzer& an, const std::vector<kk::Faq>& faqs) {
  std::unordered_map<std::u32string, std::unordered_map<uint32_t, double>> counts;
  std::unordered_map<uint32_t, double> ctx_total;
  std::unordered_map<std::u32string, double> word_total;
  double total = 0;
  for (const auto& f : faqs) {
    const kk::Analysis a = an.Analyze(f.question);
    for (const auto& t : a.tokens) {
      if (t.kind != kk::TokenKind::kWord) continue;
      const std::u32string w = kk::FromUtf8(t.text);
      const size_t from = t.position, to = t.position + w.size();
      const uint32_t left = from > 0 ? static_cast<uint32_t>(a.text[from - 1]) : 1u;
      const uint32_t right = to < a.text.size() ? static_cast<uint32_t>(a.text[to]) : 1u;
      for (uint32_t k : {left << 1, (right << 1) | 1u}) {
        counts[w][k] += 1;
        ctx_total[k] += 1;
        word_total[w] += 1;
        total += 1;
      }
    }
  }
  WordSlots out;
  for (auto& [w, m] : counts) {
    if (word_total[w] < 6) continue;
    std::unordered_map<uint32_t, double> v;
    double norm = 0;
    for (const auto& [k, c] : m) {
      const double pmi = std::log(c * total / (word_total[w] * ctx_total[k]));
      if (pmi > 0) {
        v[k] = pmi;
        norm += pmi * pmi;
      }
    }
    if (norm <= 0) continue;
    norm = std::sqrt(norm);
    for (auto& [k, x] : v)
      x /= norm;
    out.vec[w] = std::move(v);
  }
  return out;
}

std::pair<double, double> Conflict(const std::vector<std::u32string>& qw,
                                   const std::vector<std::u32string>& dw, const WordSlots& slots) {
  double mx = 0, sum = 0;
  for (const auto& a : qw) {
    if (std::binary_search(dw.begin(), dw.end(), a)) continue;
    double best = 0;
    for (const auto& b : dw) {
      if (std::binary_search(qw.begin(), qw.end(), b)) continue;
      if (a.find(b) != std::u32string::npos || b.find(a) != std::u32string::npos) continue;
      best = std::max(best, slots.Sim(a, b));
    }
    mx = std::max(mx, best);
    sum += best;
  }
  return {mx, sum};
}

std::array<double, kExtraCount> Extras(const std::u32string& q, const std::u32string& d,
                                       const CharIdf& idf) {
  std::array<double, kExtraCount> f{};
  if (q.empty() || d.empty()) return f;
  // Longest common substring and IDF-weighted LCS.
  std::vector<double> prev(d.size() + 1, 0), cur(d.size() + 1, 0);
  std::vector<int> sp(d.size() + 1, 0), sc(d.size() + 1, 0);
  int best_sub = 0;
  double q_idf = 0, q_max = 0, rare_max = -1;
  char32_t rarest = 0;
  for (char32_t c : q) {
    const double x = idf(c);
    q_idf += x;
    if (x > rare_max) {
      rare_max = x;
      rarest = c;
    }
  }
  for (size_t i = 1; i <= q.size(); ++i) {
    const double wi = idf(q[i - 1]);
    for (size_t j = 1; j <= d.size(); ++j) {
      if (q[i - 1] == d[j - 1]) {
        cur[j] = prev[j - 1] + wi;
        sc[j] = sp[j - 1] + 1;
        best_sub = std::max(best_sub, sc[j]);
      } else {
        cur[j] = std::max(prev[j], cur[j - 1]);
        sc[j] = 0;
      }
    }
    std::swap(prev, cur);
    std::swap(sp, sc);
  }
  f[0] = static_cast<double>(best_sub) / static_cast<double>(q.size());
  f[1] = q_idf > 0 ? prev[d.size()] / q_idf : 0;
  double miss_q = 0, miss_d = 0, d_max = 0;
  for (char32_t c : q) {
    q_max = std::max(q_max, idf(c));
    if (d.find(c) == std::u32string::npos) miss_q = std::max(miss_q, idf(c));
  }
  for (char32_t c : d) {
    d_max = std::max(d_max, idf(c));
    if (q.find(c) == std::u32string::npos) miss_d = std::max(miss_d, idf(c));
  }
  f[2] = q_max > 0 ? miss_q / q_max : 0;
  f[3] = d_max > 0 ? miss_d / d_max : 0;
  size_t pairs = 0, hit = 0;
  for (size_t i = 0; i + 1 < q.size(); ++i) {
    ++pairs;
    if (d.find(q.substr(i, 2)) != std::u32string::npos) ++hit;
  }
  f[4] = pairs ? static_cast<double>(hit) / pairs : 0;
  f[5] = d.find(rarest) != std::u32string::npos ? 1.0 : 0.0;
  return f;
}

const char* Arg(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return nullptr;
}
bool Flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

void PrintReport(const kk::EvalReport& r) {
  std::printf("%s\n", kk::EvalReportToJson(r).dump().c_str());
  std::printf("reliability: bucket count mean_conf strict_prec | adj_count adj_prec\n");
  for (const auto& b : r.reliability) {
    if (b.count == 0) continue;
    std::printf("  [%.1f,%.1f) %5zu %.3f %.3f | %3zu %.3f\n", b.lo, b.hi, b.count,
                b.mean_confidence, static_cast<double>(b.strict_correct) / b.count, b.adj_count,
                b.adj_count ? static_cast<double>(b.adj_correct) / b.adj_count : 0.0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* faq_path = Arg(argc, argv, "--faq");
  const char* q_path = Arg(argc, argv, "--queries");
  const char* a_path = Arg(argc, argv, "--adjudicated");
  if (!faq_path || !q_path) {
    std::fprintf(stderr, "usage: %s --faq F --queries Q [--adjudicated A] [--tune] ...\n", argv[0]);
    return 2;
  }
  auto faqs = kk::LoadFaqJsonl(faq_path);
  auto queries = kk::LoadEvalQueries(q_path);
  if (!faqs.ok() || !queries.ok()) {
    std::fprintf(stderr, "load failed\n");
    return 1;
  }
  std::vector<kk::Adjudication> adj;
  if (a_path) {
    auto a = kk::LoadAdjudications(a_path);
    if (!a.ok()) {
      std::fprintf(stderr, "%s\n", a.status().ToString().c_str());
      return 1;
    }
    adj = std::move(a).value();
  }
  kk::MatcherOptions opt;
  if (Flag(argc, argv, "--no-vocab")) opt.learn_vocabulary = false;
  if (Flag(argc, argv, "--no-icu")) opt.analyzer.icu_words = false;
  if (Flag(argc, argv, "--pinyin")) opt.analyzer.pinyin = true;
  if (Flag(argc, argv, "--no-fillers")) opt.bm25.damp_fillers = false;
  if (const char* c = Arg(argc, argv, "--candidates")) opt.candidates = std::stoul(c);
  if (const char* c = Arg(argc, argv, "--bigram-weight")) opt.bm25.bigram_weight = std::stod(c);
  if (const char* c = Arg(argc, argv, "--word-weight")) opt.bm25.word_weight = std::stod(c);
  if (const char* c = Arg(argc, argv, "--min-idf")) opt.min_retrieval_idf = std::stod(c);
  if (const char* c = Arg(argc, argv, "--k1")) opt.bm25.k1 = std::stod(c);
  if (const char* c = Arg(argc, argv, "--b")) opt.bm25.b = std::stod(c);
  if (const char* c = Arg(argc, argv, "--min-pmi")) opt.vocabulary.min_pmi = std::stod(c);
  if (const char* c = Arg(argc, argv, "--min-be")) {
    opt.vocabulary.min_boundary_entropy = std::stod(c);
  }
  if (Flag(argc, argv, "--bm25-only")) {
    opt.rerank_weights = {};
    opt.rerank_weights[0] = 1.0;
  }
  if (const char* x = Arg(argc, argv, "--l2")) g_l2 = std::stod(x);
  if (const char* x = Arg(argc, argv, "--epochs")) g_epochs = std::stoi(x);
  kk::Matcher matcher(opt);
  const auto b0 = std::chrono::steady_clock::now();
  matcher.Rebuild(faqs->faqs);
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
  std::printf("faqs=%zu lexicon_words=%zu build_s=%.2f\n", matcher.faq_count(),
              matcher.lexicon_word_count(), build_s);
  if (Flag(argc, argv, "--show")) {
    std::map<std::string, std::string> text;
    for (const auto& f : faqs->faqs)
      text[f.id] = f.question;
    for (size_t i = 0; i < queries->size() && i < 40; ++i) {
      auto m = matcher.Match((*queries)[i].query, 3);
      std::printf("%s | gold %s | top %s %s\n", (*queries)[i].query.c_str(),
                  text[(*queries)[i].faq_id].c_str(),
                  m.empty() ? "-" : m[0].matched_question.c_str(),
                  !m.empty() && m[0].faq_id == (*queries)[i].faq_id ? "OK" : "");
    }
    return 0;
  }
  if (Flag(argc, argv, "--adj-errors")) {
    // Adjudicated queries whose top-1 is not an equivalent FAQ: query, top-1, gold (for study).
    std::map<std::string, std::string> text;
    for (const auto& f : faqs->faqs)
      text[f.id] = f.question;
    for (const auto& a : adj) {
      const auto& q = (*queries)[a.query_index];
      auto m = matcher.Match(q.query, 5);
      if (!m.empty() && a.equivalent.contains(m[0].faq_id)) continue;
      int rank = -1;
      for (size_t r = 0; r < m.size(); ++r) {
        if (a.equivalent.contains(m[r].faq_id) && rank < 0) rank = static_cast<int>(r);
      }
      std::printf("%s | top %s%s (%.2f) | gold %s | first equivalent rank %d\n", q.query.c_str(),
                  m.empty() ? "-" : m[0].matched_question.c_str(),
                  !m.empty() && !a.judged.contains(m[0].faq_id) ? " [unjudged]" : "",
                  m.empty() ? 0.0 : m[0].confidence, text[q.faq_id].c_str(), rank);
    }
    return 0;
  }
  if (!Flag(argc, argv, "--tune")) {
    PrintReport(kk::Evaluate(matcher, *queries, adj));
    return 0;
  }
  // --extra a,b,...: experimental features (kExtraNames, or "all") appended to the matcher's.
  std::vector<size_t> extra;
  if (const char* e = Arg(argc, argv, "--extra")) {
    const std::string list = std::string(",") + e + ",";
    for (size_t k = 0; k < kExtraCount; ++k) {
      if (list == ",all," ||
          list.find(std::string(",") + kExtraNames[k] + ",") != std::string::npos) {
        extra.push_back(k);
      }
    }
  }
  // --drop i,j,...: base feature indices zeroed (ablation).
  std::vector<size_t> drop;
  if (const char* d = Arg(argc, argv, "--drop")) {
    for (const char* c = d; *c != 0;) {
      drop.push_back(std::strtoul(c, nullptr, 10));
      while (*c != 0 && *c != ',')
        ++c;
      if (*c == ',') ++c;
    }
  }
  const auto analyzer = matcher.analyzer();
  CharIdf idf;
  const bool prop = Flag(argc, argv, "--prop") || Arg(argc, argv, "--soft") != nullptr;
  if (!extra.empty() || prop) {
    std::unordered_map<char32_t, size_t> df;
    for (const auto& f : faqs->faqs) {
      std::u32string chars = ContentChars(*analyzer, f.question);
      std::sort(chars.begin(), chars.end());
      chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
      for (char32_t c : chars)
        ++df[c];
    }
    const double n = static_cast<double>(faqs->faqs.size());
    for (const auto& [c, k] : df)
      idf.idf[c] = std::log(1 + (n - k + 0.5) / (k + 0.5));
    idf.unknown = std::log(1 + (n + 0.5) / 0.5);
  }
  const WordSlots slots = extra.empty() ? WordSlots() : LearnSlots(*analyzer, faqs->faqs);
  const size_t dims = kk::kFeatureCount + extra.size();
  std::vector<QueryCands> qs;
  for (const auto& q : *queries) {
    QueryCands c;
    c.gold = q.faq_id;
    const std::u32string qc = extra.empty() ? std::u32string() : ContentChars(*analyzer, q.query);
    const std::vector<std::u32string> qw =
        extra.empty() ? std::vector<std::u32string>() : WordsOf(analyzer->Analyze(q.query));
    for (auto& e : matcher.Explain(q.query, opt.candidates)) {
      c.faq.push_back(e.faq_id);
      std::vector<double> row(e.features.begin(), e.features.end());
      for (size_t k : drop)
        row[k] = 0;
      if (!extra.empty()) {
        auto x = Extras(qc, ContentChars(*analyzer, e.question), idf);
        const auto [cmax, csum] = Conflict(qw, WordsOf(analyzer->Analyze(e.question)), slots);
        x[6] = cmax;
        x[7] = csum;
        {
          // Unweighted character coverage both ways, sqrt-IDF coverage, and a word swap (the
          // query has a word the question lacks while the question has one the query lacks).
          const std::u32string dc = ContentChars(*analyzer, e.question);
          size_t qh = 0, dh = 0;
          double sq = 0, sq_hit = 0;
          for (char32_t ch : qc) {
            const bool hit = dc.find(ch) != std::u32string::npos;
            qh += hit;
            sq += std::sqrt(idf(ch));
            if (hit) sq_hit += std::sqrt(idf(ch));
          }
          for (char32_t ch : dc)
            dh += qc.find(ch) != std::u32string::npos;
          x[8] = qc.empty() ? 0 : static_cast<double>(qh) / qc.size();
          x[9] = dc.empty() ? 0 : static_cast<double>(dh) / dc.size();
          const auto dw = WordsOf(analyzer->Analyze(e.question));
          size_t q_only = 0, d_only = 0;
          for (const auto& a : qw)
            q_only +=
                !std::binary_search(dw.begin(), dw.end(), a) && dc.find(a) == std::u32string::npos;
          for (const auto& b : dw)
            d_only +=
                !std::binary_search(qw.begin(), qw.end(), b) && qc.find(b) == std::u32string::npos;
          x[10] = static_cast<double>(std::min<size_t>(std::min(q_only, d_only), 3)) / 3.0;
          x[11] = sq > 0 ? sq_hit / sq : 0;
        }
        for (size_t k : extra)
          row.push_back(x[k]);
      }
      c.f.push_back(std::move(row));
      if (prop) {
        std::u32string chars = ContentChars(*analyzer, e.question);
        std::map<char32_t, double> tf;
        for (char32_t ch : chars)
          tf[ch] += idf(ch);
        double norm = 0;
        for (const auto& [ch, x] : tf)
          norm += x * x;
        norm = std::sqrt(norm);
        std::vector<std::pair<char32_t, double>> v;
        for (const auto& [ch, x] : tf)
          v.emplace_back(ch, norm > 0 ? x / norm : 0.0);
        c.vec.push_back(std::move(v));
      }
    }
    qs.push_back(std::move(c));
  }
  if (const char* soft = Arg(argc, argv, "--soft")) {
    const double t = std::stod(soft);
    size_t added = 0;
    for (auto& q : qs) {
      size_t gi = q.faq.size();
      for (size_t i = 0; i < q.faq.size(); ++i) {
        if (q.faq[i] == q.gold) gi = i;
      }
      if (gi == q.faq.size()) continue;
      q.pos.assign(q.faq.size(), 0);
      for (size_t i = 0; i < q.faq.size(); ++i) {
        if (i != gi && Dot(q.vec[i], q.vec[gi]) >= t) {
          q.pos[i] = 1;
          ++added;
        }
      }
    }
    std::printf("soft positives (cos >= %.2f): %zu\n", t, added);
  }
  size_t in_cands = 0;
  for (const auto& q : qs) {
    if (std::find(q.faq.begin(), q.faq.end(), q.gold) != q.faq.end()) ++in_cands;
  }
  std::printf("candidate recall@%zu: %.4f\n", opt.candidates,
              static_cast<double>(in_cands) / static_cast<double>(qs.size()));
  Weights start(opt.rerank_weights.begin(), opt.rerank_weights.end());
  start.resize(dims, 0.0);
  Mlp mlp;  // hidden == 0: linear model
  if (Flag(argc, argv, "--listwise")) {
    if (Flag(argc, argv, "--half")) {
      // Held-out check in both directions: train even / test odd, train odd / test even.
      Ranked sum;
      double adj_sum = 0;
      for (int train = 0; train < 2; ++train) {
        const Weights w = FitListwise(qs, dims, train);
        const Ranked held = Score(qs, w, 1 - train, 2, true);
        const auto [a1, un] = AdjTop1(qs, w, adj, 1 - train);
        std::printf(
            "listwise trained on %s, held-out %s: mrr %.4f top1 %.4f r5 %.4f adj_top1 %.4f "
            "unjudged %.4f\n",
            train == 0 ? "even" : "odd", train == 0 ? "odd" : "even", held.mrr, held.top1, held.r5,
            a1, un);
        sum.mrr += held.mrr / 2;
        sum.top1 += held.top1 / 2;
        sum.r5 += held.r5 / 2;
        adj_sum += a1 / 2;
      }
      if (prop) {
        for (int train = 0; train < 2; ++train) {
          const Weights w1 = FitListwise(qs, dims, train);
          const std::vector<QueryCands> q2 = AddPropagation(qs, w1);
          const Weights w2 = FitListwise(q2, dims + 1, train);
          const Ranked held = Score(q2, w2, 1 - train, 2, true);
          const auto [a1, un] = AdjTop1(q2, w2, adj, 1 - train);
          std::printf(
              "prop trained on %s: held-out mrr %.4f top1 %.4f r5 %.4f adj_top1 %.4f "
              "unjudged %.4f (prop weight %.3f)\n",
              train == 0 ? "even" : "odd", held.mrr, held.top1, held.r5, a1, un, w2.back());
        }
      }
      std::printf("half/half mean held-out: mrr %.4f top1 %.4f r5 %.4f adj_top1 %.4f\n", sum.mrr,
                  sum.top1, sum.r5, adj_sum);
    }
    start = FitListwise(qs, dims, -1);
    const Ranked all = Score(qs, start, 0, 1, true);
    const auto [a1, un] = AdjTop1(qs, start, adj, -1);
    std::printf(
        "listwise on all (in-sample): mrr %.4f top1 %.4f r5 %.4f adj_top1 %.4f unjudged "
        "%.4f\n",
        all.mrr, all.top1, all.r5, a1, un);
    std::printf("listwise start = {");
    for (double x : start)
      std::printf("%.3f, ", x);
    std::printf("}\n");
    for (size_t k = 0; k < extra.size(); ++k)
      std::printf("  extra %s weight %.3f\n", kExtraNames[extra[k]], start[kk::kFeatureCount + k]);
    if (const char* h = Arg(argc, argv, "--mlp")) {
      // Small nonlinear model on top of the linear fit, held-out both ways.
      const size_t hidden = std::stoul(h);
      const int epochs =
          Arg(argc, argv, "--mlp-epochs") ? std::stoi(Arg(argc, argv, "--mlp-epochs")) : 200;
      const double l2 = Arg(argc, argv, "--mlp-l2") ? std::stod(Arg(argc, argv, "--mlp-l2")) : 1e-3;
      if (const char* x = Arg(argc, argv, "--mlp-seed")) g_mlp_seed = std::stoull(x);
      for (int train = 0; train < 2; ++train) {
        const Mlp m = FitMlp(qs, FitListwise(qs, dims, train), hidden, train, epochs, l2);
        ReportMlp(train == 0 ? "mlp trained even, held-out odd" : "mlp trained odd, held-out even",
                  qs, m, adj, 1 - train);
      }
      mlp = FitMlp(qs, start, hidden, -1, epochs, l2);
      ReportMlp("mlp on all (in-sample)", qs, mlp, adj, -1);
      std::printf("mlp linear = {");
      for (double x : mlp.w)
        std::printf("%.4f, ", x);
      std::printf("}\nmlp hidden in = {");
      for (size_t j = 0; j < hidden; ++j) {
        std::printf("{");
        for (size_t k = 0; k < dims; ++k)
          std::printf("%.4f, ", mlp.u[j * dims + k]);
        std::printf("}, ");
      }
      std::printf("}\nmlp hidden bias = {");
      for (double x : mlp.c)
        std::printf("%.4f, ", x);
      std::printf("}\nmlp hidden out = {");
      for (double x : mlp.v)
        std::printf("%.4f, ", x);
      std::printf("}\n");
    }
    if (Flag(argc, argv, "--quick")) return 0;
  }
  if (Flag(argc, argv, "--pairwise")) {
    // RankNet-style start: logistic regression on (gold - other) feature differences.
    std::vector<std::vector<double>> px;
    std::vector<int> py;
    for (const auto& q : qs) {
      size_t g = q.faq.size();
      for (size_t i = 0; i < q.faq.size(); ++i) {
        if (q.faq[i] == q.gold) g = i;
      }
      if (g == q.faq.size()) continue;
      for (size_t i = 0; i < q.faq.size(); ++i) {
        if (q.faq[i] == q.gold) continue;
        std::vector<double> row(dims + 1, 0.0);
        const double sign = (px.size() % 2 == 0) ? 1.0 : -1.0;
        for (size_t k = 0; k < dims; ++k)
          row[k + 1] = sign * (q.f[g][k] - q.f[i][k]);
        px.push_back(row);
        py.push_back(sign > 0 ? 1 : 0);
      }
    }
    std::vector<double> b = FitLogistic(px, py, 1.0);
    const double scale = b[1] != 0 ? 0.5 / b[1] : 1.0;
    for (size_t k = 0; k < dims; ++k)
      start[k] = b[k + 1] * std::abs(scale);
    std::printf("pairwise start = {");
    for (double x : start)
      std::printf("%.3f, ", x);
    std::printf("}\n");
  }
  for (int fold = 0; fold < 2 && !Flag(argc, argv, "--no-ca"); ++fold) {
    Weights w = Tune(qs, start, fold, 2);
    Ranked held = Score(qs, w, fold, 2, true);
    Ranked base = Score(qs, start, fold, 2, true);
    std::printf("fold %d held-out: mrr %.4f top1 %.4f r5 %.4f (start mrr %.4f r5 %.4f)\n", fold,
                held.mrr, held.top1, held.r5, base.mrr, base.r5);
  }
  Weights w = Flag(argc, argv, "--no-ca") ? start : Tune(qs, start, 0, 1);
  Ranked all = Score(qs, w, 0, 1, true);
  std::printf("tuned on all: mrr %.4f top1 %.4f r5 %.4f\nweights = {", all.mrr, all.top1, all.r5);
  for (double x : w)
    std::printf("%.3f, ", x);
  std::printf("}\n");
  const Weights linear = mlp.hidden > 0 ? mlp.w : w;
  if (mlp.hidden > 0) {
    // Calibrate on the MLP's scores: one feature (the score) plus the coverage RankOf reads.
    for (auto& q : qs) {
      for (auto& row : q.f)
        row = {mlp.Score(row), row[1]};
    }
    w = {1.0, 0.0};
  }
  // Stage 1: Platt on strict labels over (score, margin), 5-fold CV log loss reported.
  std::vector<std::vector<double>> x;
  std::vector<int> y;
  std::vector<std::string> tops;
  for (const auto& q : qs) {
    double s1 = 0, m = 0, lp = 0, cv = 0;
    std::string top;
    const int r = RankOf(q, w, &s1, &m, &top, &lp, &cv);
    x.push_back({1.0, lp, m, cv});
    y.push_back(r == 0 ? 1 : 0);
    tops.push_back(top);
  }
  std::vector<double> b1 = FitLogistic(x, y, 1e-3);
  std::printf("stage1 strict platt: bias %.4f log_p %.4f margin %.4f coverage %.4f\n", b1[0], b1[1],
              b1[2], b1[3]);
  {
    // 5-fold cross-validated log loss and Brier score of stage 1 on the strict labels.
    double ll = 0, brier = 0;
    for (int fold = 0; fold < 5; ++fold) {
      std::vector<std::vector<double>> xt;
      std::vector<int> yt;
      for (size_t i = 0; i < x.size(); ++i) {
        if (static_cast<int>(i % 5) != fold) {
          xt.push_back(x[i]);
          yt.push_back(y[i]);
        }
      }
      auto bb = FitLogistic(xt, yt, 1e-3);
      for (size_t i = static_cast<size_t>(fold); i < x.size(); i += 5) {
        double z = 0;
        for (size_t k = 0; k < bb.size(); ++k)
          z += bb[k] * x[i][k];
        const double p = 1 / (1 + std::exp(-z));
        ll -= y[i] ? std::log(std::max(p, 1e-9)) : std::log(std::max(1 - p, 1e-9));
        brier += (p - y[i]) * (p - y[i]);
      }
    }
    std::printf("stage1 5-fold CV: log loss %.4f brier %.4f (n=%zu)\n",
                ll / static_cast<double>(x.size()), brier / static_cast<double>(x.size()),
                x.size());
  }
  // Stage 2: map stage-1 logit to adjudicated correctness on the adjudicated sample.
  std::vector<std::vector<double>> x2;
  std::vector<int> y2;
  for (const auto& a : adj) {
    if (a.query_index >= qs.size()) continue;
    const double z = b1[0] + b1[1] * x[a.query_index][1] + b1[2] * x[a.query_index][2] +
                     b1[3] * x[a.query_index][3];
    x2.push_back({1.0, z});
    y2.push_back(a.equivalent.contains(tops[a.query_index]) ? 1 : 0);
  }
  if (!x2.empty()) {
    // Leave-one-out log loss of stage 2.
    double ll = 0;
    for (size_t i = 0; i < x2.size(); ++i) {
      std::vector<std::vector<double>> xt;
      std::vector<int> yt;
      for (size_t j = 0; j < x2.size(); ++j) {
        if (j == i) continue;
        xt.push_back(x2[j]);
        yt.push_back(y2[j]);
      }
      auto bb = FitLogistic(xt, yt, 1e-2);
      const double p = 1 / (1 + std::exp(-(bb[0] + bb[1] * x2[i][1])));
      ll -= y2[i] ? std::log(std::max(p, 1e-9)) : std::log(std::max(1 - p, 1e-9));
    }
    auto b2 = FitLogistic(x2, y2, 1e-2);
    std::printf("stage2 adjudicated: a %.4f b %.4f (LOO log loss %.4f)\n", b2[0], b2[1],
                ll / static_cast<double>(x2.size()));
    kk::PlattCalibration cal{b2[0] + b2[1] * b1[0], b2[1] * b1[1], b2[1] * b1[2], b2[1] * b1[3]};
    std::printf("calibration = {%.4f, %.4f, %.4f, %.4f}\n", cal.bias, cal.log_p, cal.margin,
                cal.coverage);
    if (dims != kk::kFeatureCount) return 0;  // the matcher cannot run experimental features
    std::array<double, kk::kFeatureCount> mw{};
    std::copy(linear.begin(), linear.end(), mw.begin());
    kk::HiddenLayer hl;
    for (size_t j = 0; j < mlp.hidden && j < kk::kHiddenUnits; ++j) {
      for (size_t k = 0; k < dims; ++k)
        hl.in[j][k] = mlp.u[j * dims + k];
      hl.bias[j] = mlp.c[j];
      hl.out[j] = mlp.v[j];
    }
    matcher.SetModel(mw, hl, cal);
  } else {
    if (dims != kk::kFeatureCount || mlp.hidden > 0) return 0;
    std::array<double, kk::kFeatureCount> mw{};
    std::copy(w.begin(), w.end(), mw.begin());
    matcher.SetModel(mw, {b1[0], b1[1], b1[2], b1[3]});
  }
  PrintReport(kk::Evaluate(matcher, *queries, adj));
  return 0;
}
