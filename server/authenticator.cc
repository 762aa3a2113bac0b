#include "server/authenticator.h"

namespace kefu::server {
namespace {

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

}  // namespace kefu::server
