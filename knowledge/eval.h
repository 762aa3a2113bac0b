// Offline evaluation of the matcher on faq-dev style files:
//   FAQ file: JSONL of FAQ objects (see faq.h); queries: {"query", "faq_id"} per line;
//   adjudicated: {"query_index", "query", "faq_id", "equivalent_faq_ids", "judged_faq_ids"}.
// Strict metrics count only the labelled faq_id; adjudicated ones also accept equivalent ids
// (unjudged top-1 FAQs count as misses and are reported as adj_unjudged_top1).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "knowledge/faq.h"
#include "knowledge/matcher.h"

namespace kefu::knowledge {

struct EvalQuery {
  std::string query;
  std::string faq_id;
};

struct Adjudication {
  size_t query_index = 0;
  std::set<std::string> equivalent;  // includes the gold faq_id
  std::set<std::string> judged;      // every judged candidate, includes `equivalent`
};

// A line that could not be read: 1-based line number and reason.
struct LineError {
  size_t line = 0;
  std::string reason;
};

struct FaqFile {
  std::vector<Faq> faqs;
  std::vector<LineError> errors;
};

// Reads FAQ JSONL; bad lines are collected in `errors` (good lines still load). ids missing in
// the file are left empty. kNotFound when the file cannot be opened.
Result<FaqFile> LoadFaqJsonl(const std::string& path);
// kNotFound / kInvalidArgument naming the line on a bad line.
Result<std::vector<EvalQuery>> LoadEvalQueries(const std::string& path);
Result<std::vector<Adjudication>> LoadAdjudications(const std::string& path);

struct ReliabilityBucket {
  double lo = 0, hi = 0;
  size_t count = 0;  // all queries whose top-1 confidence falls in [lo, hi)
  size_t strict_correct = 0;
  size_t adj_count = 0;  // adjudicated queries in the bucket
  size_t adj_correct = 0;
  double mean_confidence = 0;
};

struct EvalReport {
  double strict_top1 = 0, strict_recall5 = 0, strict_mrr10 = 0;
  double adj_top1 = 0, adj_recall5 = 0, adj_unjudged_top1 = 0;
  size_t queries = 0;
  size_t adjudicated = 0;
  double p50_us = 0, p99_us = 0, qps = 0;
  std::vector<ReliabilityBucket> reliability;  // 10 buckets of top-1 confidence
};

// Runs every query through `matcher` (single thread, top 10) and scores it.
EvalReport Evaluate(const Matcher& matcher, const std::vector<EvalQuery>& queries,
                    const std::vector<Adjudication>& adjudicated);

// The kefuctl `faq eval --json` object (metrics only, fixed key set).
nlohmann::json EvalReportToJson(const EvalReport& report);

}  // namespace kefu::knowledge
