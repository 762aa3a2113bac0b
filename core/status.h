// Status and Result<T>: how errors cross module boundaries.
//
// A Status is a code plus a human-readable message naming what was wrong ("faq 42 not found",
// "wecom.apps[0].token: must not be empty"). Library exceptions are caught at the adapter edge and
// turned into a Status; they never cross a module boundary.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace kefu {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from outside: 400
  kUnauthenticated,     // missing or wrong credentials: 401
  kPermissionDenied,    // authenticated but not allowed, or forged signature: 403
  kNotFound,            // unknown id: 404
  kAlreadyExists,       // unique key hit: 409
  kFailedPrecondition,  // state does not allow the operation: 409
  kResourceExhausted,   // size or rate limit: 413 / 429
  kUnavailable,         // dependency down or busy, retry later: 503
  kDeadlineExceeded,    // timed out: 504
  kDataLoss,            // storage corrupt or schema too new
  kInternal,            // a bug or an unexpected library failure: 500
};

// Stable lower_snake_case name of a code ("not_found"), used in JSON error bodies and metrics.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: faq 42 not found", or "ok".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status DataLoss(std::string m) {
  return {StatusCode::kDataLoss, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

}  // namespace kefu

// Returns the Status of `expr` from the enclosing function if it is not ok.
#define KEFU_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::kefu::Status kefu_status_ = (expr);        \
    if (!kefu_status_.ok()) return kefu_status_; \
  } while (false)
