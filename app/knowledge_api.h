// The knowledge module in kefud: FAQ and admin-lexicon REST API, the kefu_zh tokenizer on every
// connection, the knowledge migrations, and the live matcher (app/knowledge_live.h; provided to
// the bot as bot::FaqMatcher). Every committed change is applied to the matcher before the
// response is sent, so the next match sees it (no restart); changes made by other processes
// (kefuctl) are picked up within [knowledge] refresh_interval_s. Also provided: the configured
// knowledge::MatcherOptions, and for its options only an empty knowledge::Matcher carrying them
// (match through bot::FaqMatcher, never through that one).
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
// Admin lexicon (reads need role supervisor, changes admin; a change rebuilds the matcher before
// the response, so the next match uses it; words and variants are normalised like FAQ text):
//   GET    /api/v1/knowledge/dictionary          -> {"words": ["花呗", ...]}
//   POST   /api/v1/knowledge/dictionary          {"word": "花呗"} -> 201 {"word"}
//   DELETE /api/v1/knowledge/dictionary/{word}   -> 204 (404 unknown)
//   GET    /api/v1/knowledge/synonyms            -> {"synonyms": [{"variant", "canonical"}]}
//   POST   /api/v1/knowledge/synonyms            {"variant": "退钱", "canonical": "退款"}
//          -> 201 {"variant", "canonical"} (an existing variant gets the new canonical)
//   DELETE /api/v1/knowledge/synonyms/{variant}  -> 204 (404 unknown)
//   Bad bodies are 400 naming the field ("word: required string", "variant: must not be
//   empty", "canonical: at most 96 bytes", "word: needs at least 2 characters").
// FAQ JSON shape: knowledge::FaqToJson (knowledge/faq.h).
#pragma once

#include <memory>

#include "app/config.h"
#include "app/module.h"

namespace kefu::app {

std::unique_ptr<Module> MakeKnowledgeModule(KnowledgeConfig config = {});

}  // namespace kefu::app
