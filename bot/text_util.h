// UTF-8 text helpers for the dialogue policy: normalisation for keyword and choice matching,
// emoji-only detection and safe truncation. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kefu::bot {

// Lower-cases ASCII, converts full-width ASCII (U+FF01..U+FF5E) to ASCII, and removes whitespace
// and ASCII/CJK punctuation, so "  转人工！" and "转人工" compare equal. Invalid UTF-8 bytes are
// dropped.
std::string NormalizeForMatch(std::string_view text);

// True when `text` has no letters, digits or CJK characters: only whitespace, punctuation, emoji
// (including ZWJ sequences, skin tones, variation selectors) and WeChat emoticon codes such as
// "[微笑]". True for the empty string.
bool IsBlankOrEmojiOnly(std::string_view text);

// The longest prefix of `text` with at most `max_code_points` code points, never cutting a UTF-8
// sequence.
std::string TruncateCodePoints(std::string_view text, std::size_t max_code_points);

// Number of code points (invalid bytes count as one each).
std::size_t CountCodePoints(std::string_view text);

// Parses a 1-based choice like "2", "２", "第二个", "二", "第2条", "选2", "2号" from already
// normalised text; nullopt when the text is not a choice. Accepts 1..9.
std::optional<int> ParseChoiceNumber(std::string_view normalized);

}  // namespace kefu::bot
