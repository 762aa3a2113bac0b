// The authentication port: the server asks it who a bearer token belongs to; the app implements
// it over storage (hashed tokens).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http.h"
#include "core/result.h"

namespace kefu::server {

struct Principal {
  std::string subject;  // who: an agent login or a token name
  std::string role;     // "agent" | "supervisor" | "admin"
};

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

// The principal the server authenticated for this request, or nullopt on a route without
// authentication. core/http.h has no principal field, so the server stores it in
// `request.path_params` under the reserved keys ":principal.subject" and ":principal.role";
// route parameters cannot start with ':' and clients cannot set path_params, so the values
// cannot be forged. Copies of the request keep it.
std::optional<Principal> PrincipalOf(const HttpRequest& request);

// Stores `principal` in `request` the way PrincipalOf reads it (used by the server; tests may
// use it to build requests for handlers).
void SetPrincipal(HttpRequest& request, const Principal& principal);

}  // namespace kefu::server
