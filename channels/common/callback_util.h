// Small helpers shared by the callback handlers of every channel.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/http.h"

namespace kefu::channels {

// Query parameters of `req`, percent-decoded from the raw target with '+' kept literally (spec
// §2.1 POLICY). Falls back to req.query when the target carries no query. nullopt when a
// parameter has a malformed escape.
std::optional<std::map<std::string, std::string>> RawQuery(const HttpRequest& req);

// `n` random characters from [A-Za-z0-9] drawn from OpenSSL's CSPRNG (nonces, random16).
std::string RandomAlnum(size_t n);

// An empty-bodied response with `status` (WeCom: 200 empty = received, 403 = rejected).
HttpResponse EmptyResponse(int status);

// True when `name` can name an app in a callback URL: non-empty, letters, digits, '-' and '_'.
bool IsValidAppName(std::string_view name);

// Trims ASCII whitespace at both ends.
std::string_view TrimAsciiView(std::string_view s);

}  // namespace kefu::channels
