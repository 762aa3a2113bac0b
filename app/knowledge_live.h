// LiveMatcher: the FAQ matcher kefud serves, kept in step with the knowledge tables.
//
// The served state (a knowledge::Matcher plus the bot's answer snapshot over it) sits behind a
// shared_ptr that a rebuild replaces in one swap: a rebuild builds the new matcher off to the
// side, so matches never wait for it, and matches already running finish on the old state.
//
// Freshness is tracked with the store's generation counter (FaqStore::Generation, bumped by every
// committed change by any process):
//   * kefud's own single changes (REST) are applied in place with Apply(), which is told the
//     generation before and after the change; when the served state was at `before` it moves to
//     `after` without a rebuild;
//   * RefreshIfDue(), run by the background thread every `refresh_interval` of the Clock, reads
//     the stored generation and rebuilds when it differs from the served one (changes made by
//     kefuctl, or by kefud while its own bookkeeping could not follow);
//   * Rebuild() reloads everything (start-up, admin dictionary/synonym changes, bulk imports).
// Changes applied while a rebuild is loading are replayed onto the new state before the swap
// when they are newer than the snapshot it loaded, so no committed change is lost by a swap.
//
// Thread-safe. Rebuilds are serialised; Match never blocks on one (only on a single-FAQ Apply to
// the same matcher, which is short).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bot/engine_ports.h"
#include "bot/knowledge_faq_matcher.h"
#include "core/clock.h"
#include "core/result.h"
#include "knowledge/faq.h"
#include "knowledge/matcher.h"

namespace kefu::app {

// One consistent snapshot of the knowledge tables.
struct KnowledgeSnapshot {
  int64_t generation = 0;
  std::vector<knowledge::Faq> faqs;
  knowledge::LexiconEntries lexicon;
};

// One committed single-FAQ change: an upsert of `faq`, or the removal of `removed_id`.
struct FaqChange {
  knowledge::Faq faq;
  std::string removed_id;  // non-empty: a removal
};

class LiveMatcher final : public bot::FaqMatcher {
 public:
  // Reads the whole base in one read transaction (blocking; called on the rebuilding thread).
  using Loader = std::function<Result<KnowledgeSnapshot>()>;
  // Reads the stored generation (blocking).
  using GenerationReader = std::function<Result<int64_t>()>;

  // Serves an empty base until the first Rebuild(). `clock` must outlive this object;
  // `refresh_interval` 0 turns RefreshIfDue off.
  LiveMatcher(knowledge::MatcherOptions options, Loader load, GenerationReader generation,
              const Clock& clock, std::chrono::milliseconds refresh_interval);
  ~LiveMatcher() override;
  LiveMatcher(const LiveMatcher&) = delete;
  LiveMatcher& operator=(const LiveMatcher&) = delete;

  // Registers kefu_knowledge_matcher_rebuilds_total{result="ok"|"error"},
  // kefu_knowledge_matcher_generation and kefu_knowledge_matcher_rebuild_seconds (the last
  // rebuild's build time) in `registry`, which must outlive this object. Call before Start.
  void RegisterMetrics(prometheus::Registry& registry);

  // Loads the base, builds a new matcher and swaps it in. Errors: the loader's (the served state
  // is kept).
  Status Rebuild();

  // Applies committed changes that moved the stored generation from `before` to `after` to the
  // served matcher (visible to the next Match when this returns).
  void Apply(const std::vector<FaqChange>& changes, int64_t before, int64_t after);

  // When `refresh_interval` passed since the last check: reads the generation and rebuilds if it
  // differs from the served one. Returns whether it rebuilt; errors: the reader's or loader's.
  Result<bool> RefreshIfDue();

  // Background thread calling RefreshIfDue every `poll` (wall time); the Clock decides when a
  // check is due. Stop() joins it (idempotent, also from the destructor).
  void Start(std::chrono::milliseconds poll = std::chrono::milliseconds(250));
  void Stop();

  // The best `k` FAQs of the served state.
  std::vector<knowledge::FaqMatch> Match(std::string_view query, size_t k) const;
  // bot::FaqMatcher: candidates with the FAQ's question and its answer for `channel`.
  Result<bot::MatchResult> Match(std::string_view query, const std::string& channel,
                                 int k) const override;

  // The generation the served state reflects (-1 before the first Rebuild).
  int64_t generation() const;
  size_t faq_count() const;
  size_t lexicon_word_count() const;
  size_t rebuild_count() const;
  const knowledge::MatcherOptions& options() const { return options_; }

 private:
  struct State {
    std::unique_ptr<knowledge::Matcher> matcher;
    std::unique_ptr<bot::KnowledgeFaqMatcher> answers;  // over *matcher; destroyed first
  };
  struct Pending {
    std::vector<FaqChange> changes;
    int64_t before, after;
  };
  std::shared_ptr<State> state() const;
  static void ApplyTo(State& state, const std::vector<FaqChange>& changes);

  const knowledge::MatcherOptions options_;
  const Loader load_;
  const GenerationReader read_generation_;
  const Clock& clock_;
  const std::chrono::milliseconds refresh_interval_;

  mutable std::mutex state_mu_;  // guards state_ (the pointer only)
  std::shared_ptr<State> state_;

  std::mutex rebuild_mu_;  // one rebuild at a time
  mutable std::mutex mu_;  // guards the members below; serialises Apply with the swap
  int64_t generation_ = -1;
  bool rebuilding_ = false;
  std::vector<Pending> pending_;  // applied while rebuilding_
  size_t rebuilds_ = 0;
  TimePoint next_check_{};

  prometheus::Counter* rebuilt_ok_ = nullptr;  // set by RegisterMetrics
  prometheus::Counter* rebuild_failed_ = nullptr;
  prometheus::Gauge* generation_gauge_ = nullptr;
  prometheus::Gauge* rebuild_seconds_ = nullptr;

  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stopping_ = false;  // guarded by thread_mu_
  std::thread thread_;
};

}  // namespace kefu::app
