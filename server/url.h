// URL decoding used by the router and the server.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace kefu::server {

// Decodes %XX escapes (and '+' as a space when `plus_as_space`, for query strings).
// kInvalidArgument on a truncated or non-hex escape or an encoded NUL byte.
Result<std::string> PercentDecode(std::string_view in, bool plus_as_space = false);

// Parses "a=1&b=x%20y&flag" into {a:"1", b:"x y", flag:""}. The first occurrence of a repeated
// key wins; empty pieces ("a=1&&b=2") are skipped. kInvalidArgument on a bad escape.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace kefu::server
