// The knowledge module in kefud: FAQ REST API, the kefu_zh tokenizer on every connection, the
// knowledge migrations, and the live matcher (provided to the bot as bot::FaqMatcher and as
// knowledge::Matcher). Every committed change is applied to the matcher before the response is
// sent, so the next match sees it (no restart).
//
// REST (authenticated; writes need role admin except adding a similar question, any role):
//   GET    /api/v1/faqs?q=&category=&tag=&enabled=&limit=50&offset=0
//          -> {"faqs": [faq...], "total": N, "limit": L, "offset": O}  (q: kefu_zh full text)
//   POST   /api/v1/faqs                 faq -> 201 stored faq (id generated when absent)
//   POST   /api/v1/faqs/import          JSONL body, or {"faqs": [faq...]}; ?dry_run=true
//          -> {"imported": n, "created": c, "updated": u, "errors": [{"line", "reason"}],
//              "dry_run": bool}   (existing ids are replaced; bad lines skipped)
//   GET    /api/v1/faqs/{id}            -> faq (404 unknown)
//   PUT    /api/v1/faqs/{id}            faq -> replaced faq (body id, if any, must equal {id})
//   PATCH  /api/v1/faqs/{id}            partial faq -> merged faq
//   DELETE /api/v1/faqs/{id}            -> 204
//   POST   /api/v1/faqs/{id}/similar    {"question": "..."} -> faq with the phrasing added
//   GET    /api/v1/faq-match?q=&k=5     -> {"matches": [{"faq_id", "question",
//          "matched_question", "score", "confidence"}]}
// FAQ JSON shape: knowledge::FaqToJson (knowledge/faq.h).
#pragma once

#include <memory>

#include "app/module.h"
#include "knowledge/matcher.h"

namespace kefu::app {

std::unique_ptr<Module> MakeKnowledgeModule(knowledge::MatcherOptions options = {});

}  // namespace kefu::app
