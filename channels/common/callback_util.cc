#include "channels/common/callback_util.h"

#include <openssl/rand.h>

#include <cctype>

#include "channels/common/wx_crypto.h"

namespace kefu::channels {

std::optional<std::map<std::string, std::string>> RawQuery(const HttpRequest& req) {
  size_t q = req.target.find('?');
  if (q == std::string::npos) return req.query;
  std::map<std::string, std::string> out;
  std::string_view rest = std::string_view(req.target).substr(q + 1);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key;
    std::string value;
    if (!PercentDecode(pair.substr(0, eq), key)) return std::nullopt;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), value)) {
      return std::nullopt;
    }
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::string RandomAlnum(size_t n) {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    if (RAND_bytes(buf, sizeof buf) != 1) continue;
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 62 * 4: rejection sampling keeps the draw uniform
      out += kAlnum[b % 62];
      if (out.size() == n) break;
    }
  }
  return out;
}

HttpResponse EmptyResponse(int status) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

std::string_view TrimAsciiView(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

bool IsValidAppName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace kefu::channels
