#include "app/knowledge_live.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace kefu::app {

LiveMatcher::LiveMatcher(knowledge::MatcherOptions options, Loader load,
                         GenerationReader generation, const Clock& clock,
                         std::chrono::milliseconds refresh_interval)
    : options_(std::move(options)),
      load_(std::move(load)),
      read_generation_(std::move(generation)),
      clock_(clock),
      refresh_interval_(refresh_interval) {
  auto empty = std::make_shared<State>();
  empty->matcher = std::make_unique<knowledge::Matcher>(options_);
  empty->answers = std::make_unique<bot::KnowledgeFaqMatcher>(*empty->matcher);
  state_ = std::move(empty);
}

LiveMatcher::~LiveMatcher() {
  Stop();
}

std::shared_ptr<LiveMatcher::State> LiveMatcher::state() const {
  std::lock_guard lock(state_mu_);
  return state_;
}

void LiveMatcher::ApplyTo(State& state, const std::vector<FaqChange>& changes) {
  for (const FaqChange& c : changes) {
    Status s =
        c.removed_id.empty() ? state.answers->Upsert(c.faq) : state.answers->Remove(c.removed_id);
    // A removal of an FAQ the matcher never held (disabled, or already gone) is not an error.
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      spdlog::warn("knowledge: live matcher change failed faq_id={} error={}",
                   c.removed_id.empty() ? c.faq.id : c.removed_id, s.ToString());
    }
  }
}

void LiveMatcher::RegisterMetrics(prometheus::Registry& registry) {
  auto& rebuilds = prometheus::BuildCounter()
                       .Name("kefu_knowledge_matcher_rebuilds_total")
                       .Help("Live matcher rebuilds by result")
                       .Register(registry);
  rebuilt_ok_ = &rebuilds.Add({{"result", "ok"}});
  rebuild_failed_ = &rebuilds.Add({{"result", "error"}});
  generation_gauge_ = &prometheus::BuildGauge()
                           .Name("kefu_knowledge_matcher_generation")
                           .Help("Knowledge-table generation the served matcher reflects")
                           .Register(registry)
                           .Add({});
  rebuild_seconds_ = &prometheus::BuildGauge()
                          .Name("kefu_knowledge_matcher_rebuild_seconds")
                          .Help("Build time of the last live matcher rebuild")
                          .Register(registry)
                          .Add({});
}

Status LiveMatcher::Rebuild() {
  std::lock_guard rebuild(rebuild_mu_);
  {
    std::lock_guard lock(mu_);
    rebuilding_ = true;
    pending_.clear();  // applied before the load starts, so the load sees them
  }
  Result<KnowledgeSnapshot> loaded = load_();
  if (!loaded.ok()) {
    std::lock_guard lock(mu_);
    rebuilding_ = false;
    pending_.clear();
    if (rebuild_failed_ != nullptr) rebuild_failed_->Increment();
    return loaded.status();
  }
  const auto started = std::chrono::steady_clock::now();
  auto next = std::make_shared<State>();
  next->matcher = std::make_unique<knowledge::Matcher>(options_);
  next->matcher->SetLexiconEntries(std::move(loaded->lexicon));
  next->answers = std::make_unique<bot::KnowledgeFaqMatcher>(*next->matcher);
  next->answers->Reload(loaded->faqs);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);

  std::lock_guard lock(mu_);
  int64_t generation = loaded->generation;
  for (const Pending& p : pending_) {
    if (p.after <= loaded->generation) continue;  // already in the snapshot
    ApplyTo(*next, p.changes);
    if (p.before == generation) generation = p.after;
  }
  pending_.clear();
  rebuilding_ = false;
  {
    std::lock_guard swap(state_mu_);
    state_ = std::move(next);
  }
  generation_ = generation;
  ++rebuilds_;
  if (rebuilt_ok_ != nullptr) {
    rebuilt_ok_->Increment();
    generation_gauge_->Set(static_cast<double>(generation));
    rebuild_seconds_->Set(static_cast<double>(took.count()) / 1000.0);
  }
  spdlog::info("knowledge: matcher rebuilt generation={} faqs={} lexicon_words={} took_ms={}",
               generation, loaded->faqs.size(), state()->matcher->lexicon_word_count(),
               took.count());
  return Status::Ok();
}

void LiveMatcher::Apply(const std::vector<FaqChange>& changes, int64_t before, int64_t after) {
  std::lock_guard lock(mu_);
  ApplyTo(*state(), changes);
  if (rebuilding_) pending_.push_back({changes, before, after});
  if (generation_ == before) {
    generation_ = after;
    if (generation_gauge_ != nullptr) generation_gauge_->Set(static_cast<double>(after));
  }
}

Result<bool> LiveMatcher::RefreshIfDue() {
  if (refresh_interval_.count() <= 0) return false;
  const TimePoint now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (now < next_check_) return false;
    next_check_ = now + refresh_interval_;
  }
  KEFU_ASSIGN_OR_RETURN(int64_t stored, read_generation_());
  if (stored == generation()) return false;
  KEFU_RETURN_IF_ERROR(Rebuild());
  return true;
}

void LiveMatcher::Start(std::chrono::milliseconds poll) {
  if (refresh_interval_.count() <= 0 || thread_.joinable()) return;
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, poll] {
    std::unique_lock lock(thread_mu_);
    while (!thread_cv_.wait_for(lock, poll, [this] { return stopping_; })) {
      lock.unlock();
      Result<bool> refreshed = RefreshIfDue();
      if (!refreshed.ok()) {
        spdlog::warn("knowledge: matcher refresh failed error={}", refreshed.status().ToString());
      }
      lock.lock();
    }
  });
}

void LiveMatcher::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  thread_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<knowledge::FaqMatch> LiveMatcher::Match(std::string_view query, size_t k) const {
  return state()->matcher->Match(query, k);
}

Result<bot::MatchResult> LiveMatcher::Match(std::string_view query, const std::string& channel,
                                            int k) const {
  return state()->answers->Match(query, channel, k);
}

int64_t LiveMatcher::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

size_t LiveMatcher::faq_count() const {
  return state()->matcher->faq_count();
}

size_t LiveMatcher::lexicon_word_count() const {
  return state()->matcher->lexicon_word_count();
}

size_t LiveMatcher::rebuild_count() const {
  std::lock_guard lock(mu_);
  return rebuilds_;
}

}  // namespace kefu::app
