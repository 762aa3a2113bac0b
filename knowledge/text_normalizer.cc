#include "knowledge/text_normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>
#include <memory>
#include <mutex>

namespace kefu::knowledge {
namespace {

// Decodes one code point at s[i]; advances i. Returns U+FFFD on malformed input.
char32_t DecodeOne(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t c = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    c = b0 & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    c = (c << 6) | (b & 0x3F);
  }
  static constexpr std::array<char32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[static_cast<size_t>(len)] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += static_cast<size_t>(len);
  return c;
}

// Traditional -> Simplified for the BMP ideograph blocks, computed once with ICU. The transform
// is applied per character: ICU's Traditional-Simplified rules are character based.
constexpr char32_t kT2sFirst = 0x3400;
constexpr char32_t kT2sLast = 0x9FFF;

const std::vector<char32_t>& T2sTable() {
  static std::once_flag once;
  static std::vector<char32_t> table;
  std::call_once(once, [] {
    table.resize(kT2sLast - kT2sFirst + 1);
    for (char32_t c = kT2sFirst; c <= kT2sLast; ++c)
      table[c - kT2sFirst] = c;
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(
        icu::Transliterator::createInstance("Traditional-Simplified", UTRANS_FORWARD, status));
    if (U_FAILURE(status) || !t) return;
    // Transliterate the whole block in one call, separated so no multi-character rule fires.
    icu::UnicodeString block;
    for (char32_t c = kT2sFirst; c <= kT2sLast; ++c) {
      block.append(static_cast<UChar32>(c));
      block.append(static_cast<UChar>(0x0A));
    }
    t->transliterate(block);
    int32_t line_start = 0;
    char32_t c = kT2sFirst;
    for (int32_t i = 0; i < block.length() && c <= kT2sLast;) {
      const UChar32 cp = block.char32At(i);
      if (cp == 0x0A) {
        const icu::UnicodeString piece(block, line_start, i - line_start);
        if (piece.countChar32() == 1)
          table[c - kT2sFirst] = static_cast<char32_t>(piece.char32At(0));
        ++c;
        line_start = i + 1;
      }
      i += U16_LENGTH(cp);
    }
  });
  return table;
}

const icu::Normalizer2* Nfkc() {
  static const icu::Normalizer2* n = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* p = icu::Normalizer2::getNFKCInstance(status);
    return U_FAILURE(status) ? nullptr : p;
  }();
  return n;
}

char32_t SimplifyHan(char32_t c) {
  if (c >= kT2sFirst && c <= kT2sLast) return T2sTable()[c - kT2sFirst];
  return c;
}

}  // namespace

bool IsHan(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x323AF) || (c >= 0xF900 && c <= 0xFAFF);
}

std::u32string NormalizeCodePoint(char32_t c) {
  if (c < 0x80) {
    if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
    return std::u32string(1, c);
  }
  if (c >= 0x4E00 && c <= 0x9FFF) return std::u32string(1, SimplifyHan(c));
  std::u32string out;
  const icu::Normalizer2* nfkc = Nfkc();
  icu::UnicodeString in(static_cast<UChar32>(c));
  icu::UnicodeString normalised;
  UErrorCode status = U_ZERO_ERROR;
  if (nfkc != nullptr) normalised = nfkc->normalize(in, status);
  if (nfkc == nullptr || U_FAILURE(status)) normalised = in;
  normalised.foldCase();
  for (int32_t i = 0; i < normalised.length();) {
    const UChar32 cp = normalised.char32At(i);
    out.push_back(SimplifyHan(static_cast<char32_t>(cp)));
    i += U16_LENGTH(cp);
  }
  return out;
}

NormalizedText Normalize(std::string_view utf8) {
  NormalizedText out;
  out.chars.reserve(utf8.size());
  out.begin.reserve(utf8.size());
  out.end.reserve(utf8.size());
  size_t i = 0;
  while (i < utf8.size()) {
    const size_t start = i;
    const char32_t c = DecodeOne(utf8, i);
    auto push = [&](char32_t n) {
      out.chars.push_back(n);
      out.begin.push_back(static_cast<uint32_t>(start));
      out.end.push_back(static_cast<uint32_t>(i));
    };
    if (c < 0x80) {
      push(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (c >= 0x4E00 && c <= 0x9FFF) {
      push(SimplifyHan(c));
    } else {
      for (char32_t n : NormalizeCodePoint(c))
        push(n);
    }
  }
  return out;
}

void AppendUtf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string ToUtf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char32_t c : s)
    AppendUtf8(c, out);
  return out;
}

std::u32string FromUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size())
    out.push_back(DecodeOne(s, i));
  return out;
}

void FromUtf8Into(std::string_view s, std::u32string& out) {
  out.clear();
  size_t i = 0;
  while (i < s.size())
    out.push_back(DecodeOne(s, i));
}

std::string NormalizeToUtf8(std::string_view utf8) {
  return ToUtf8(Normalize(utf8).chars);
}

}  // namespace kefu::knowledge
