// Helpers for REST handlers in app/<module>_api.cc: run blocking database work off the I/O thread
// and answer from there.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/module.h"
#include "core/http.h"
#include "core/result.h"

namespace kefu::app {

// 200 (or `status`) with `body` serialised as JSON.
HttpResponse JsonResponse(const nlohmann::json& body, int status = 200);

// Parses the request body as a JSON object; kInvalidArgument "request body: ..." otherwise.
Result<nlohmann::json> ParseJsonBody(const HttpRequest& request);

// Runs `read` on a worker thread with a ReadPool connection (one snapshot) and answers with its
// response, or with HttpResponse::Error(status) when it fails. If the worker pool is stopped the
// answer is 503.
void RespondWithRead(Services& services,
                     std::function<Result<HttpResponse>(storage::Database&)> read,
                     HttpResponder respond);

// Posts `write` to the WriterExecutor and answers after the group commit: its response when the
// write is durable, else the error (job error or commit error). Never blocks the caller.
void RespondWithWrite(Services& services,
                      std::function<Result<HttpResponse>(storage::Database&)> write,
                      HttpResponder respond);

}  // namespace kefu::app
