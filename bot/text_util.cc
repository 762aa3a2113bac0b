#include "bot/text_util.h"

#include <array>
#include <cstdint>

namespace kefu::bot {
namespace {

// Decodes one code point at `i`; returns its length in bytes via `len`, or -1 for an invalid
// sequence (then len is 1).
int32_t DecodeAt(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b0 < 0x80) return b0;
  std::size_t need = 0;
  int32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    need = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    need = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    need = 3;
    cp = b0 & 0x07;
  } else {
    return -1;
  }
  if (i + need >= s.size()) return -1;
  for (std::size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  len = need + 1;
  return cp;
}

void AppendUtf8(std::string& out, int32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsSpace(int32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
         cp == 0x00A0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0xFEFF;
}

bool IsPunctuation(int32_t cp) {
  if (cp < 0x80) {
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
  }
  return (cp >= 0x2010 && cp <= 0x205E) ||  // general punctuation: dashes, quotes, ellipsis
         (cp >= 0x3001 && cp <= 0x3003) ||  // 、。〃
         (cp >= 0x3008 && cp <= 0x3011) ||  // 〈〉《》「」『』【】
         (cp >= 0x3014 && cp <= 0x301F) ||  // 〔〕〖〗〘〙〚〛〜〝〞〟
         cp == 0x30FB || cp == 0xFF5E || cp == 0x00B7 ||
         (cp >= 0xFE10 && cp <= 0xFE6B);  // vertical and small forms
}

bool IsEmoji(int32_t cp) {
  return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) ||
         (cp >= 0x2B00 && cp <= 0x2BFF) || (cp >= 0x2190 && cp <= 0x21FF) ||
         (cp >= 0x2300 && cp <= 0x23FF) || (cp >= 0x25A0 && cp <= 0x25FF) ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x200D || cp == 0x20E3 || cp == 0x3030 ||
         cp == 0x303D || cp == 0x00A9 || cp == 0x00AE || (cp >= 0xE0020 && cp <= 0xE007F);
}

// Length in bytes of a WeChat emoticon code like "[微笑]" or "[OK]" starting at `i`, or 0.
std::size_t WeChatEmoticonLength(std::string_view s, std::size_t i) {
  if (s[i] != '[') return 0;
  std::size_t j = i + 1;
  std::size_t points = 0;
  while (j < s.size() && s[j] != ']' && s[j] != '[') {
    std::size_t len = 0;
    const int32_t cp = DecodeAt(s, j, len);
    if (cp < 0 || IsSpace(cp)) return 0;
    j += len;
    if (++points > 4) return 0;
  }
  if (j >= s.size() || s[j] != ']' || points == 0) return 0;
  return j + 1 - i;
}

}  // namespace

std::string NormalizeForMatch(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = 0;
    int32_t cp = DecodeAt(text, i, len);
    i += len;
    if (cp < 0) continue;
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
    if (IsSpace(cp) || IsPunctuation(cp)) continue;
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    AppendUtf8(out, cp);
  }
  return out;
}

bool IsBlankOrEmojiOnly(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (const std::size_t emoticon = WeChatEmoticonLength(text, i); emoticon > 0) {
      i += emoticon;
      continue;
    }
    std::size_t len = 0;
    int32_t cp = DecodeAt(text, i, len);
    i += len;
    if (cp < 0) continue;
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
    if (IsSpace(cp) || IsPunctuation(cp) || IsEmoji(cp)) continue;
    return false;
  }
  return true;
}

std::string TruncateCodePoints(std::string_view text, std::size_t max_code_points) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < text.size() && n < max_code_points; ++n) {
    std::size_t len = 0;
    DecodeAt(text, i, len);
    i += len;
  }
  return std::string(text.substr(0, i));
}

std::size_t CountCodePoints(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++n) {
    std::size_t len = 0;
    DecodeAt(text, i, len);
    i += len;
  }
  return n;
}

std::optional<int> ParseChoiceNumber(std::string_view s) {
  auto consume = [&s](std::string_view word) {
    if (s.substr(0, word.size()) == word) {
      s.remove_prefix(word.size());
      return true;
    }
    return false;
  };
  auto consume_suffix = [&s](std::string_view word) {
    if (s.size() >= word.size() && s.substr(s.size() - word.size()) == word) {
      s.remove_suffix(word.size());
      return true;
    }
    return false;
  };
  consume("我");
  consume("选");
  consume("要");
  consume("第");
  if (!consume_suffix("个问题") && !consume_suffix("个") && !consume_suffix("条") &&
      !consume_suffix("项") && !consume_suffix("号")) {
    consume_suffix("吧");
  }
  if (s.size() == 1 && s[0] >= '1' && s[0] <= '9') return s[0] - '0';
  static constexpr std::array<std::string_view, 9> kNumerals = {"一", "二", "三", "四", "五",
                                                                "六", "七", "八", "九"};
  for (std::size_t k = 0; k < kNumerals.size(); ++k) {
    if (s == kNumerals[k]) return static_cast<int>(k) + 1;
  }
  if (s == "两") return 2;
  return std::nullopt;
}

}  // namespace kefu::bot
