#include "server/authenticator.h"

namespace kefu::server {
namespace {

constexpr char kSubjectKey[] = ":principal.subject";
constexpr char kRoleKey[] = ":principal.role";

int RoleRank(std::string_view role) {
  if (role == "agent") return 1;
  if (role == "supervisor") return 2;
  if (role == "admin") return 3;
  return 0;
}

}  // namespace

bool RoleSatisfies(std::string_view actual, std::string_view required) {
  if (required.empty()) return true;
  int need = RoleRank(required);
  if (need == 0) return actual == required;
  return RoleRank(actual) >= need;
}

std::optional<Principal> PrincipalOf(const HttpRequest& request) {
  auto subject = request.path_params.find(kSubjectKey);
  if (subject == request.path_params.end()) return std::nullopt;
  Principal p;
  p.subject = subject->second;
  if (auto role = request.path_params.find(kRoleKey); role != request.path_params.end()) {
    p.role = role->second;
  }
  return p;
}

void SetPrincipal(HttpRequest& request, const Principal& principal) {
  request.path_params[kSubjectKey] = principal.subject;
  request.path_params[kRoleKey] = principal.role;
}

}  // namespace kefu::server
