// UTF-8-safe splitting of outbound text at a platform's byte limit (spec §2.8, §7.23).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kefu::channels {

// Splits `text` into parts of at most `max_bytes` UTF-8 bytes each. Never cuts inside a code
// point, and avoids cutting inside an emoji sequence (before a ZWJ, variation selector, skin-tone
// modifier or combining mark, or right after a ZWJ) when another boundary exists. Prefers the
// last newline, then the last space, in the second half of a part. Concatenating the parts gives
// back `text` exactly. `max_bytes` must be >= 4. An empty text gives no parts.
std::vector<std::string> SplitUtf8(std::string_view text, size_t max_bytes);

}  // namespace kefu::channels
