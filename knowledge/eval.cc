#include "knowledge/eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>

namespace kefu::knowledge {
namespace {

Result<std::vector<nlohmann::json>> ReadJsonLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open " + path);
  std::vector<nlohmann::json> out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return InvalidArgument(path + ":" + std::to_string(n) + ": malformed JSON object");
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Result<FaqFile> LoadFaqJsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open " + path);
  FaqFile out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<Faq> f = FaqFromJsonText(line);
    if (!f.ok()) {
      out.errors.push_back({n, f.status().message()});
      continue;
    }
    out.faqs.push_back(std::move(f).value());
  }
  return out;
}

Result<std::vector<EvalQuery>> LoadEvalQueries(const std::string& path) {
  KEFU_ASSIGN_OR_RETURN(std::vector<nlohmann::json> lines, ReadJsonLines(path));
  std::vector<EvalQuery> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& j = lines[i];
    if (!j.contains("query") || !j["query"].is_string() || !j.contains("faq_id") ||
        !j["faq_id"].is_string()) {
      return InvalidArgument(path + ": entry " + std::to_string(i + 1) +
                             ": needs string fields query and faq_id");
    }
    out.push_back({j["query"].get<std::string>(), j["faq_id"].get<std::string>()});
  }
  return out;
}

Result<std::vector<Adjudication>> LoadAdjudications(const std::string& path) {
  KEFU_ASSIGN_OR_RETURN(std::vector<nlohmann::json> lines, ReadJsonLines(path));
  std::vector<Adjudication> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& j = lines[i];
    try {
      Adjudication a;
      a.query_index = j.at("query_index").get<size_t>();
      const std::string gold = j.at("faq_id").get<std::string>();
      a.equivalent.insert(gold);
      a.judged.insert(gold);
      for (const auto& e : j.at("equivalent_faq_ids"))
        a.equivalent.insert(e.get<std::string>());
      for (const auto& e : j.at("judged_faq_ids"))
        a.judged.insert(e.get<std::string>());
      for (const auto& e : a.equivalent)
        a.judged.insert(e);
      out.push_back(std::move(a));
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgument(path + ": entry " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  return out;
}

EvalReport Evaluate(const Matcher& matcher, const std::vector<EvalQuery>& queries,
                    const std::vector<Adjudication>& adjudicated) {
  EvalReport r;
  r.queries = queries.size();
  std::map<size_t, const Adjudication*> adj;
  for (const Adjudication& a : adjudicated) {
    if (a.query_index < queries.size()) adj[a.query_index] = &a;
  }
  r.adjudicated = adj.size();
  r.reliability.resize(10);
  for (size_t b = 0; b < 10; ++b) {
    r.reliability[b].lo = static_cast<double>(b) / 10;
    r.reliability[b].hi = static_cast<double>(b + 1) / 10;
  }
  std::vector<double> latencies;
  latencies.reserve(queries.size());
  double top1 = 0, r5 = 0, mrr = 0, atop1 = 0, ar5 = 0, aunj = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<FaqMatch> m = matcher.Match(queries[i].query, 10);
    const auto t1 = std::chrono::steady_clock::now();
    latencies.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    for (size_t rank = 0; rank < m.size(); ++rank) {
      if (m[rank].faq_id != queries[i].faq_id) continue;
      if (rank == 0) top1 += 1;
      if (rank < 5) r5 += 1;
      mrr += 1.0 / static_cast<double>(rank + 1);
      break;
    }
    const bool strict_hit = !m.empty() && m[0].faq_id == queries[i].faq_id;
    bool adj_hit = false;
    auto it = adj.find(i);
    if (it != adj.end()) {
      const Adjudication& a = *it->second;
      if (!m.empty()) {
        adj_hit = a.equivalent.contains(m[0].faq_id);
        if (!a.judged.contains(m[0].faq_id)) aunj += 1;
      }
      if (adj_hit) atop1 += 1;
      for (size_t rank = 0; rank < m.size() && rank < 5; ++rank) {
        if (a.equivalent.contains(m[rank].faq_id)) {
          ar5 += 1;
          break;
        }
      }
    }
    const double conf = m.empty() ? 0.0 : m[0].confidence;
    ReliabilityBucket& b = r.reliability[std::min<size_t>(9, static_cast<size_t>(conf * 10))];
    ++b.count;
    b.mean_confidence += conf;
    if (strict_hit) ++b.strict_correct;
    if (it != adj.end()) {
      ++b.adj_count;
      if (adj_hit) ++b.adj_correct;
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (ReliabilityBucket& b : r.reliability) {
    if (b.count > 0) b.mean_confidence /= static_cast<double>(b.count);
  }
  const double n = std::max<double>(1.0, static_cast<double>(queries.size()));
  const double na = std::max<double>(1.0, static_cast<double>(r.adjudicated));
  r.strict_top1 = top1 / n;
  r.strict_recall5 = r5 / n;
  r.strict_mrr10 = mrr / n;
  r.adj_top1 = atop1 / na;
  r.adj_recall5 = ar5 / na;
  r.adj_unjudged_top1 = aunj / na;
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    r.p50_us = latencies[latencies.size() / 2];
    r.p99_us = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
    r.qps = elapsed > 0 ? static_cast<double>(queries.size()) / elapsed : 0;
  }
  return r;
}

nlohmann::json EvalReportToJson(const EvalReport& r) {
  auto round = [](double v, double scale) { return std::round(v * scale) / scale; };
  return {{"strict_top1", round(r.strict_top1, 1e4)},
          {"strict_recall5", round(r.strict_recall5, 1e4)},
          {"strict_mrr10", round(r.strict_mrr10, 1e4)},
          {"adj_top1", round(r.adj_top1, 1e4)},
          {"adj_recall5", round(r.adj_recall5, 1e4)},
          {"adj_unjudged_top1", round(r.adj_unjudged_top1, 1e4)},
          {"queries", r.queries},
          {"p50_us", round(r.p50_us, 10)},
          {"p99_us", round(r.p99_us, 10)},
          {"qps", round(r.qps, 10)}};
}

}  // namespace kefu::knowledge
