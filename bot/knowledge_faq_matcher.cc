#include "bot/knowledge_faq_matcher.h"

#include <utility>

namespace kefu::bot {

KnowledgeFaqMatcher::KnowledgeFaqMatcher(knowledge::Matcher& matcher)
    : matcher_(matcher), snapshot_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const KnowledgeFaqMatcher::Snapshot> KnowledgeFaqMatcher::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

void KnowledgeFaqMatcher::Reload(const std::vector<knowledge::Faq>& faqs) {
  auto next = std::make_shared<Snapshot>();
  for (const auto& f : faqs) {
    if (f.enabled) next->emplace(f.id, f);
  }
  matcher_.Rebuild(faqs);
  std::lock_guard lock(mu_);
  snapshot_ = std::move(next);
}

Status KnowledgeFaqMatcher::Upsert(const knowledge::Faq& faq) {
  KEFU_RETURN_IF_ERROR(matcher_.Upsert(faq));
  std::lock_guard lock(mu_);
  auto next = std::make_shared<Snapshot>(*snapshot_);
  if (faq.enabled) {
    (*next)[faq.id] = faq;
  } else {
    next->erase(faq.id);
  }
  snapshot_ = std::move(next);
  return Status::Ok();
}

Status KnowledgeFaqMatcher::Remove(const std::string& faq_id) {
  KEFU_RETURN_IF_ERROR(matcher_.Remove(faq_id));
  std::lock_guard lock(mu_);
  auto next = std::make_shared<Snapshot>(*snapshot_);
  next->erase(faq_id);
  snapshot_ = std::move(next);
  return Status::Ok();
}

Result<MatchResult> KnowledgeFaqMatcher::Match(std::string_view query, const std::string& channel,
                                               int k) const {
  const auto faqs = snapshot();
  MatchResult out;
  for (const auto& m : matcher_.Match(query, k < 1 ? 1 : static_cast<size_t>(k))) {
    const auto it = faqs->find(m.faq_id);
    if (it == faqs->end()) continue;
    out.candidates.push_back(
        {m.faq_id, it->second.question, it->second.AnswerFor(channel), m.confidence});
  }
  return out;
}

}  // namespace kefu::bot
