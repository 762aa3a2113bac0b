// The kefu_zh analyzer: normalised text -> index/query tokens. Used by the FTS5 tokenizer, the
// in-memory matcher index and the query path, so FAQ and query text always agree.
//
// Pipeline: Normalize() (NFKC, case fold, Traditional->Simplified), admin synonyms rewritten to
// their canonical form, then per run of Han characters: character unigrams, character bigrams,
// lexicon words (learned vocabulary + admin dictionary, 2..max length, every occurrence) and ICU
// dictionary words; per run of letters/digits: one token. Optional pinyin tokens ("~bei") per Han
// character let homophone typos match. Everything else (punctuation, emoji, spaces, U+FFFD) is a
// separator. Tokens are emitted in text order.
//
// Thread-safe: Analyze() is const; ICU break iterators are per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "knowledge/lexicon.h"

namespace kefu::knowledge {

enum class TokenKind : uint8_t {
  kUnigram,  // one Han character
  kBigram,   // two adjacent Han characters that are not a lexicon/ICU word
  kWord,     // lexicon word or ICU word (2+ Han characters)
  kLatin,    // run of letters/digits
  kPinyin,   // toneless pinyin of one Han character, prefixed with '~'
};

struct Token {
  std::string text;  // UTF-8
  TokenKind kind = TokenKind::kUnigram;
  uint32_t begin = 0;  // byte offsets into the analysed input
  uint32_t end = 0;
  uint32_t position = 0;  // index of the first normalised character
};

struct AnalyzerOptions {
  bool unigrams = true;
  bool bigrams = true;
  bool lexicon_words = true;
  bool icu_words = true;
  bool pinyin = false;
  size_t max_latin_token_chars = 32;  // longer letter/digit runs are cut
};

struct Analysis {
  std::u32string text;  // normalised, synonyms applied, separators kept
  std::vector<Token> tokens;
};

class Analyzer {
 public:
  Analyzer(AnalyzerOptions options, std::shared_ptr<const Lexicon> lexicon);

  // Analyses `utf8` (any length; invalid UTF-8 is tolerated). Empty/whitespace/emoji-only text
  // gives no tokens.
  Analysis Analyze(std::string_view utf8) const;

  const Lexicon& lexicon() const { return *lexicon_; }
  const std::shared_ptr<const Lexicon>& lexicon_ptr() const { return lexicon_; }
  const AnalyzerOptions& options() const { return options_; }

 private:
  AnalyzerOptions options_;
  std::shared_ptr<const Lexicon> lexicon_;
};

// Toneless pinyin of a Han character ("bei" for 呗), empty when ICU has none. Thread-safe.
const std::string& PinyinOf(char32_t han);

// A small id per distinct toneless pinyin (0 = none), for fast homophone comparison.
uint16_t PinyinIdOf(char32_t han);

// True for characters that form letter/digit tokens (ASCII alnum and other letters/digits).
bool IsWordChar(char32_t c);

}  // namespace kefu::knowledge
