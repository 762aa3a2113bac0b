#include "channels/common/text_split.h"

#include <cstdint>

namespace kefu::channels {
namespace {

bool IsContinuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

// Decodes the code point starting at `i` (input assumed mostly valid; invalid bytes count as 1).
uint32_t CodePointAt(std::string_view s, size_t i, size_t* len) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80             ? 1
             : (b & 0xE0) == 0xC0 ? 2
             : (b & 0xF0) == 0xE0 ? 3
             : (b & 0xF8) == 0xF0 ? 4
                                  : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < n; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *len = n;
  return cp;
}

// A code point that continues the previous grapheme (must not start a part).
bool IsExtender(uint32_t cp) {
  return cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
         (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0xE0020 && cp <= 0xE007F) ||
         (cp >= 0x20D0 && cp <= 0x20FF);
}

// True if a cut at byte offset `pos` (a code point boundary) splits a grapheme.
bool CutsGrapheme(std::string_view s, size_t pos) {
  if (pos == 0 || pos >= s.size()) return false;
  size_t len = 0;
  if (IsExtender(CodePointAt(s, pos, &len))) return true;
  size_t prev = pos - 1;
  while (prev > 0 && IsContinuation(static_cast<unsigned char>(s[prev])))
    --prev;
  return CodePointAt(s, prev, &len) == 0x200D;
}

}  // namespace

std::vector<std::string> SplitUtf8(std::string_view text, size_t max_bytes) {
  std::vector<std::string> parts;
  if (max_bytes < 4) max_bytes = 4;
  while (!text.empty()) {
    if (text.size() <= max_bytes) {
      parts.emplace_back(text);
      break;
    }
    size_t cut = max_bytes;
    while (cut > 0 && IsContinuation(static_cast<unsigned char>(text[cut])))
      --cut;
    size_t hard = cut;
    // Prefer a line break, then a space, in the second half of the part.
    size_t nl = text.rfind('\n', cut - 1);
    size_t sp = text.rfind(' ', cut - 1);
    if (nl != std::string_view::npos && nl + 1 >= max_bytes / 2) {
      cut = nl + 1;
    } else if (sp != std::string_view::npos && sp + 1 >= max_bytes / 2) {
      cut = sp + 1;
    } else {
      size_t c = cut;
      while (c > max_bytes / 2 && CutsGrapheme(text, c)) {
        --c;
        while (c > 0 && IsContinuation(static_cast<unsigned char>(text[c])))
          --c;
      }
      cut = CutsGrapheme(text, c) ? hard : c;
    }
    if (cut == 0) cut = hard == 0 ? 1 : hard;
    parts.emplace_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  return parts;
}

}  // namespace kefu::channels
