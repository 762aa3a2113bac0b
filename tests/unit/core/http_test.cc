#include "core/http.h"

#include <gtest/gtest.h>

namespace kefu {
namespace {

TEST(HttpRequest, HeaderLookupIgnoresCase) {
  HttpRequest req;
  req.headers["Content-Type"] = "application/json";
  ASSERT_TRUE(req.Header("content-type").has_value());
  EXPECT_EQ(*req.Header("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(req.Header("authorization").has_value());
}

TEST(HttpResponse, ErrorMapsStatusAndEscapesMessage) {
  HttpResponse r = HttpResponse::Error(NotFound("faq \"7\" not found"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"faq \"7\" not found"}})");
  EXPECT_EQ(HttpResponse::Error(Unauthenticated("no token")).status, 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
}

}  // namespace
}  // namespace kefu
