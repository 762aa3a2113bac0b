#include "server/server_options.h"

namespace kefu::server {

Status Validate(const ServerOptions& options) {
  if (options.listen.empty()) return InvalidArgument("server.listen: must not be empty");
  if (options.threads < 1 || options.threads > 256) {
    return InvalidArgument("server.threads: must be between 1 and 256");
  }
  if (options.body_limit == 0) return InvalidArgument("server.body_limit: must be positive");
  if (options.header_limit < 256) {
    return InvalidArgument("server.header_limit: must be at least 256 bytes");
  }
  if (options.read_timeout.count() <= 0) {
    return InvalidArgument("server.read_timeout: must be positive");
  }
  if (options.idle_timeout.count() <= 0) {
    return InvalidArgument("server.idle_timeout: must be positive");
  }
  if (options.write_timeout.count() <= 0) {
    return InvalidArgument("server.write_timeout: must be positive");
  }
  if (options.max_connections == 0) {
    return InvalidArgument("server.max_connections: must be positive");
  }
  return Status::Ok();
}

}  // namespace kefu::server
