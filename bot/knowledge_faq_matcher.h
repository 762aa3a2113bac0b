// KnowledgeFaqMatcher: the engine's FaqMatcher port over knowledge::Matcher.
//
// knowledge::Matcher returns FAQ ids and scores; the answers come from a snapshot of the FAQ base
// held here (replaced atomically by Reload, shared with in-flight matches). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bot/engine_ports.h"
#include "knowledge/faq.h"
#include "knowledge/matcher.h"

namespace kefu::bot {

class KnowledgeFaqMatcher final : public FaqMatcher {
 public:
  // `matcher` is not owned and must outlive this object.
  explicit KnowledgeFaqMatcher(knowledge::Matcher& matcher);

  // Rebuilds the matcher over `faqs` and replaces the answer snapshot.
  void Reload(const std::vector<knowledge::Faq>& faqs);
  // Keeps the snapshot in step with a single FAQ change already applied to the matcher (or
  // applies it: Upsert/Remove on the matcher too).
  Status Upsert(const knowledge::Faq& faq);
  Status Remove(const std::string& faq_id);

  // Candidates best first with the FAQ's standard question and its answer for `channel`.
  // FAQs missing from the snapshot (removed meanwhile) are skipped.
  Result<MatchResult> Match(std::string_view query, const std::string& channel,
                            int k) const override;

 private:
  using Snapshot = std::unordered_map<std::string, knowledge::Faq>;
  std::shared_ptr<const Snapshot> snapshot() const;

  knowledge::Matcher& matcher_;
  mutable std::mutex mu_;  // guards snapshot_ (the pointer, not the map)
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace kefu::bot
