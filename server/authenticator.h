// The authentication port: the server asks it who a bearer token belongs to; the app implements
// it over storage (hashed tokens).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http.h"
#include "core/result.h"

namespace kefu::server {

using Principal = kefu::Principal;

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // The principal owning `bearer_token` (the text after "Bearer "). kUnauthenticated (or
  // kNotFound / kPermissionDenied) for an unknown, revoked or expired token -> the client gets
  // 401; any other code (kUnavailable, kInternal) is answered with its own HTTP status.
  // Called on I/O threads, concurrently: it must be thread-safe and must not block for long
  // (a read from the read pool or a cache lookup; never a write).
  virtual Result<Principal> Authenticate(std::string_view bearer_token) = 0;
};

// True when `actual` is at least `required` in agent < supervisor < admin. An empty `required`
// accepts any role; a role outside that ladder matches only itself.
bool RoleSatisfies(std::string_view actual, std::string_view required);

// The principal the server authenticated for this request (`request.principal`), or nullopt on a
// route without authentication.
inline std::optional<Principal> PrincipalOf(const HttpRequest& request) {
  return request.principal;
}

// Stores `principal` in `request` (used by the server; tests use it to build requests).
inline void SetPrincipal(HttpRequest& request, const Principal& principal) {
  request.principal = principal;
}

}  // namespace kefu::server
