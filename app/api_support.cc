#include "app/api_support.h"

#include <utility>

namespace kefu::app {

HttpResponse JsonResponse(const nlohmann::json& body, int status) {
  return HttpResponse::Json(status, body.dump());
}

Result<nlohmann::json> ParseJsonBody(const HttpRequest& request) {
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return InvalidArgument("request body: not valid JSON");
  if (!body.is_object()) return InvalidArgument("request body: expected a JSON object");
  return body;
}

void RespondWithRead(Services& services,
                     std::function<Result<HttpResponse>(storage::Database&)> read,
                     HttpResponder respond) {
  auto shared_respond = std::make_shared<HttpResponder>(std::move(respond));
  storage::ReadPool* reads = &services.reads;
  bool posted = services.workers.Post([reads, read = std::move(read), shared_respond] {
    Result<HttpResponse> response = reads->Read(read);
    (*shared_respond)(response.ok() ? std::move(response).value()
                                    : HttpResponse::Error(response.status()));
  });
  if (!posted) (*shared_respond)(HttpResponse::Error(Unavailable("shutting down")));
}

void RespondWithWrite(Services& services,
                      std::function<Result<HttpResponse>(storage::Database&)> write,
                      HttpResponder respond) {
  auto response = std::make_shared<std::optional<HttpResponse>>();
  services.writer.Post(
      [write = std::move(write), response](storage::Database& db) -> Status {
        Result<HttpResponse> r = write(db);
        if (!r.ok()) return r.status();
        response->emplace(std::move(r).value());
        return Status::Ok();
      },
      [response, respond = std::move(respond)](Status status) {
        if (status.ok() && response->has_value()) {
          respond(std::move(**response));
        } else {
          respond(
              HttpResponse::Error(status.ok() ? Internal("write produced no response") : status));
        }
      });
}

}  // namespace kefu::app
