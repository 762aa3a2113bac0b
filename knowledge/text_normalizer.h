// Unicode normalisation of Chinese customer-service text, shared by indexing and querying.
//
// Every code point of the input goes through: NFKC (full-width ASCII and punctuation become
// half-width, compatibility ideographs become unified ones), Unicode case folding, and the ICU
// transform "Traditional-Simplified" (花唄 -> 花呗). Each output code point remembers the byte
// range of the input it came from, so tokens can report offsets into the original text (FTS5
// needs them). Invalid UTF-8 bytes become U+FFFD, which the analyzer treats as a separator.
//
// Thread-safe: the per-code-point tables are built once (lazily, under std::call_once) and are
// read-only afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kefu::knowledge {

struct NormalizedText {
  std::u32string chars;         // normalised code points
  std::vector<uint32_t> begin;  // byte offset in the input where chars[i] starts
  std::vector<uint32_t> end;    // byte offset in the input where chars[i] ends
};

// Normalises `utf8` as described above. Never fails; empty input gives empty output.
NormalizedText Normalize(std::string_view utf8);

// Normalize() and re-encode as UTF-8 (for display, dedupe keys and tests).
std::string NormalizeToUtf8(std::string_view utf8);

// Normalisation of one code point (may expand to several, e.g. U+3392 -> "mhz").
std::u32string NormalizeCodePoint(char32_t c);

// True for Han ideographs (CJK Unified Ideographs and extensions, compatibility ideographs).
bool IsHan(char32_t c);

// UTF-8 helpers.
void AppendUtf8(char32_t c, std::string& out);
std::string ToUtf8(std::u32string_view s);
// Decodes UTF-8, replacing invalid sequences by U+FFFD.
std::u32string FromUtf8(std::string_view s);
// FromUtf8 into `out` (replacing its contents; reuses its capacity).
void FromUtf8Into(std::string_view s, std::u32string& out);

}  // namespace kefu::knowledge
