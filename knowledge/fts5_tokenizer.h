// The kefu_zh FTS5 tokenizer: the Analyzer (analyzer.h) behind SQLite's fts5_api, so FTS5 tables
// declared with `tokenize = 'kefu_zh'` index unigrams, bigrams, ICU words and letter/digit runs
// of normalised text (NFKC, case fold, Traditional->Simplified, colloquial synonyms).
//
// Documents (and FTS5 auxiliary calls) are analysed; in FTS5_TOKENIZE_QUERY mode every string
// of the MATCH expression is one verbatim token, because queries are built from already analysed
// tokens (Fts5MatchExpression) — this keeps OR-of-tokens semantics exact.
//
// The tokenizer uses a fixed Lexicon (colloquial synonyms only, no learned vocabulary) so that
// stored rows and later queries always tokenize alike; the learned vocabulary lives in the
// in-memory matcher, which is rebuilt from the store.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "knowledge/analyzer.h"

namespace kefu::knowledge {

inline constexpr const char* kTokenizerName = "kefu_zh";

// Registers kefu_zh on `db`. kUnavailable when SQLite has no FTS5, kInternal on an API error.
Status RegisterKefuZhTokenizer(sqlite3* db);

// An initializer for storage::DatabaseOptions::connection_initializers.
std::function<Status(sqlite3*)> KefuZhConnectionInitializer();

// The analyzer the tokenizer uses (shared, immutable).
const std::shared_ptr<const Analyzer>& Fts5Analyzer();

// An FTS5 MATCH expression ORing the tokens of `query` (each a quoted verbatim string); empty
// when the query has no tokens. Filler-only tokens are kept (BM25 weighs them down).
std::string Fts5MatchExpression(std::string_view query);

}  // namespace kefu::knowledge
