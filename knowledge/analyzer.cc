#include "knowledge/analyzer.h"

#include <unicode/brkiter.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

constexpr char32_t kPinyinFirst = 0x4E00;
constexpr char32_t kPinyinLast = 0x9FFF;

const std::vector<std::string>& PinyinTable() {
  static std::once_flag once;
  static std::vector<std::string> table;
  std::call_once(once, [] {
    table.resize(kPinyinLast - kPinyinFirst + 1);
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        "Han-Latin; Latin-ASCII; Lower", UTRANS_FORWARD, status));
    if (U_FAILURE(status) || !t) return;
    icu::UnicodeString block;
    for (char32_t c = kPinyinFirst; c <= kPinyinLast; ++c) {
      block.append(static_cast<UChar32>(c));
      block.append(static_cast<UChar>(0x0A));
    }
    t->transliterate(block);
    std::string utf8;
    block.toUTF8String(utf8);
    size_t c = 0;
    size_t start = 0;
    for (size_t i = 0; i < utf8.size() && c < table.size(); ++i) {
      if (utf8[i] != '\n') continue;
      std::string piece = utf8.substr(start, i - start);
      const bool ascii =
          std::all_of(piece.begin(), piece.end(), [](char ch) { return (ch >= 'a' && ch <= 'z'); });
      if (ascii && !piece.empty()) table[c] = "~" + piece;
      ++c;
      start = i + 1;
    }
  });
  return table;
}

// A per-thread ICU word break iterator for Chinese (dictionary based); nullptr if unavailable.
icu::BreakIterator* WordBreaker() {
  thread_local std::unique_ptr<icu::BreakIterator> it = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> b(
        icu::BreakIterator::createWordInstance(icu::Locale::getChinese(), status));
    if (U_FAILURE(status)) b.reset();
    return b;
  }();
  return it.get();
}

const std::vector<uint16_t>& PinyinIds() {
  static const std::vector<uint16_t> ids = [] {
    const std::vector<std::string>& table = PinyinTable();
    std::unordered_map<std::string, uint16_t> numbers;
    std::vector<uint16_t> out(table.size(), 0);
    for (size_t i = 0; i < table.size(); ++i) {
      if (table[i].empty()) continue;
      auto [it, inserted] =
          numbers.try_emplace(table[i], static_cast<uint16_t>(numbers.size() + 1));
      out[i] = it->second;
    }
    return out;
  }();
  return ids;
}

}  // namespace

uint16_t PinyinIdOf(char32_t han) {
  if (han < kPinyinFirst || han > kPinyinLast) return 0;
  return PinyinIds()[han - kPinyinFirst];
}

const std::string& PinyinOf(char32_t han) {
  static const std::string kEmpty;
  if (han < kPinyinFirst || han > kPinyinLast) return kEmpty;
  return PinyinTable()[han - kPinyinFirst];
}

bool IsWordChar(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
  if (IsHan(c)) return false;
  return u_isalnum(static_cast<UChar32>(c)) != 0;
}

Analyzer::Analyzer(AnalyzerOptions options, std::shared_ptr<const Lexicon> lexicon)
    : options_(options), lexicon_(lexicon ? std::move(lexicon) : std::make_shared<Lexicon>()) {}

Analysis Analyzer::Analyze(std::string_view utf8) const {
  NormalizedText n = Normalize(utf8);
  lexicon_->ApplySynonyms(n.chars, n.begin, n.end);
  Analysis out;
  const std::u32string& s = n.chars;
  auto emit = [&](size_t from, size_t len, TokenKind kind) {
    Token t;
    t.text = ToUtf8(std::u32string_view(s).substr(from, len));
    t.kind = kind;
    t.begin = n.begin[from];
    t.end = n.end[from + len - 1];
    t.position = static_cast<uint32_t>(from);
    out.tokens.push_back(std::move(t));
  };
  const Lexicon& lex = *lexicon_;
  size_t i = 0;
  while (i < s.size()) {
    if (IsHan(s[i])) {
      size_t j = i;
      while (j < s.size() && IsHan(s[j]))
        ++j;
      // ICU words of the run, as [start, length) pairs of 2+ characters.
      std::vector<std::pair<size_t, size_t>> icu_words;
      if (options_.icu_words && j - i >= 2) {
        if (icu::BreakIterator* bi = WordBreaker()) {
          icu::UnicodeString run;
          for (size_t k = i; k < j; ++k)
            run.append(static_cast<UChar32>(s[k]));
          bi->setText(run);
          int32_t prev = bi->first();
          size_t prev_cp = 0;
          for (int32_t b = bi->next(); b != icu::BreakIterator::DONE; b = bi->next()) {
            const size_t len_cp = static_cast<size_t>(run.countChar32(prev, b - prev));
            if (len_cp >= 2) icu_words.emplace_back(i + prev_cp, len_cp);
            prev_cp += len_cp;
            prev = b;
          }
        }
      }
      size_t longest_icu = 2;
      for (const auto& w : icu_words)
        longest_icu = std::max(longest_icu, w.second);
      size_t next_icu = 0;
      for (size_t k = i; k < j; ++k) {
        if (options_.unigrams) emit(k, 1, TokenKind::kUnigram);
        if (options_.pinyin) {
          const std::string& py = PinyinOf(s[k]);
          if (!py.empty()) {
            Token t;
            t.text = py;
            t.kind = TokenKind::kPinyin;
            t.begin = n.begin[k];
            t.end = n.end[k];
            t.position = static_cast<uint32_t>(k);
            out.tokens.push_back(std::move(t));
          }
        }
        const size_t max_len = std::min(j - k, std::max(lex.max_word_length(), longest_icu));
        for (size_t len = 2; len <= max_len; ++len) {
          const std::u32string_view piece = std::u32string_view(s).substr(k, len);
          const bool lexicon_word = options_.lexicon_words && lex.IsWord(piece);
          bool icu_word = false;
          while (next_icu < icu_words.size() && icu_words[next_icu].first < k)
            ++next_icu;
          for (size_t w = next_icu; w < icu_words.size() && icu_words[w].first == k; ++w) {
            if (icu_words[w].second == len) icu_word = true;
          }
          if (lexicon_word || icu_word) {
            emit(k, len, TokenKind::kWord);
          } else if (len == 2 && options_.bigrams) {
            emit(k, len, TokenKind::kBigram);
          }
        }
      }
      i = j;
    } else if (IsWordChar(s[i])) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j]))
        ++j;
      emit(i, std::min(j - i, options_.max_latin_token_chars), TokenKind::kLatin);
      i = j;
    } else {
      ++i;
    }
  }
  out.text = std::move(n.chars);
  return out;
}

}  // namespace kefu::knowledge
