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

namespace kk = kefu::knowledge;

namespace {

using Weights = std::array<double, kk::kFeatureCount>;

struct QueryCands {
  std::string gold;
  std::vector<std::string> faq;  // per candidate doc
  std::vector<Weights> f;
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
  if (!Flag(argc, argv, "--tune")) {
    PrintReport(kk::Evaluate(matcher, *queries, adj));
    return 0;
  }
  std::vector<QueryCands> qs;
  for (const auto& q : *queries) {
    QueryCands c;
    c.gold = q.faq_id;
    for (auto& e : matcher.Explain(q.query, opt.candidates)) {
      c.faq.push_back(e.faq_id);
      c.f.push_back(e.features);
    }
    qs.push_back(std::move(c));
  }
  size_t in_cands = 0;
  for (const auto& q : qs) {
    if (std::find(q.faq.begin(), q.faq.end(), q.gold) != q.faq.end()) ++in_cands;
  }
  std::printf("candidate recall@%zu: %.4f\n", opt.candidates,
              static_cast<double>(in_cands) / static_cast<double>(qs.size()));
  Weights start = opt.rerank_weights;
  if (Flag(argc, argv, "--listwise")) {
    // ListNet-style start: softmax cross-entropy of the gold candidate, gradient descent (Adam).
    Weights w{};
    std::array<double, kk::kFeatureCount> m{}, v{};
    const double lr = 0.05, l2 = 1e-3;
    for (int it = 1; it <= 300; ++it) {
      std::array<double, kk::kFeatureCount> g{};
      size_t used = 0;
      for (size_t qi = 0; qi < qs.size(); ++qi) {
        if (qi % 2 == 1 && Flag(argc, argv, "--half")) continue;
        const auto& q = qs[qi];
        size_t gi = q.faq.size();
        for (size_t i = 0; i < q.faq.size(); ++i) {
          if (q.faq[i] == q.gold) gi = i;
        }
        if (gi == q.faq.size()) continue;
        ++used;
        std::vector<double> sc(q.faq.size());
        double mx = -1e300;
        for (size_t i = 0; i < q.faq.size(); ++i) {
          double x = 0;
          for (size_t k = 0; k < w.size(); ++k)
            x += w[k] * q.f[i][k];
          sc[i] = x;
          mx = std::max(mx, x);
        }
        double z = 0;
        for (double& x : sc)
          z += (x = std::exp(x - mx));
        for (size_t i = 0; i < q.faq.size(); ++i) {
          const double p = sc[i] / z - (i == gi ? 1.0 : 0.0);
          for (size_t k = 0; k < w.size(); ++k)
            g[k] += p * q.f[i][k];
        }
      }
      for (size_t k = 0; k < w.size(); ++k) {
        const double gk = g[k] / static_cast<double>(std::max<size_t>(1, used)) + l2 * w[k];
        m[k] = 0.9 * m[k] + 0.1 * gk;
        v[k] = 0.999 * v[k] + 0.001 * gk * gk;
        const double mh = m[k] / (1 - std::pow(0.9, it));
        const double vh = v[k] / (1 - std::pow(0.999, it));
        w[k] -= lr * mh / (std::sqrt(vh) + 1e-8);
      }
    }
    start = w;
    if (Flag(argc, argv, "--half")) {
      Ranked held = Score(qs, w, 1, 2, true);
      std::printf("listwise trained on even, held-out odd: mrr %.4f top1 %.4f r5 %.4f\n", held.mrr,
                  held.top1, held.r5);
    }
    std::printf("listwise start = {");
    for (double x : start)
      std::printf("%.3f, ", x);
    std::printf("}\n");
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
        std::vector<double> row(kk::kFeatureCount + 1, 0.0);
        const double sign = (px.size() % 2 == 0) ? 1.0 : -1.0;
        for (size_t k = 0; k < kk::kFeatureCount; ++k)
          row[k + 1] = sign * (q.f[g][k] - q.f[i][k]);
        px.push_back(row);
        py.push_back(sign > 0 ? 1 : 0);
      }
    }
    std::vector<double> b = FitLogistic(px, py, 1.0);
    const double scale = b[1] != 0 ? 0.5 / b[1] : 1.0;
    for (size_t k = 0; k < kk::kFeatureCount; ++k)
      start[k] = b[k + 1] * std::abs(scale);
    std::printf("pairwise start = {");
    for (double x : start)
      std::printf("%.3f, ", x);
    std::printf("}\n");
  }
  for (int fold = 0; fold < 2; ++fold) {
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
    matcher.SetModel(w, cal);
  } else {
    matcher.SetModel(w, {b1[0], b1[1], b1[2], b1[3]});
  }
  PrintReport(kk::Evaluate(matcher, *queries, adj));
  return 0;
}
