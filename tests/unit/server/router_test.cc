#include "server/router.h"

#include <gtest/gtest.h>

#include "server/authenticator.h"

namespace kefu::server {
namespace {

HttpResponse Ok(HttpRequest&) {
  return HttpResponse::Json(200, "{}");
}

TEST(Router, MatchesLiteralAndParamSegmentsWithDecodedParams) {
  Router router;
  router.AddSync("GET", "/api/v1/faqs/{id}", Ok);
  router.AddSync("GET", "/api/v1/faqs/{id}/versions/{version}", Ok);
  ASSERT_TRUE(router.status().ok());

  RouteMatch m = router.Match("GET", "/api/v1/faqs/%E5%AE%A2/versions/3");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/api/v1/faqs/{id}/versions/{version}");
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], std::make_pair(std::string("id"), std::string("客")));
  EXPECT_EQ(m.params[1], std::make_pair(std::string("version"), std::string("3")));
}

TEST(Router, LiteralSegmentWinsOverParamWhateverTheOrder) {
  Router router;
  router.AddSync("GET", "/faqs/{id}", Ok);
  router.AddSync("GET", "/faqs/search", Ok);
  RouteMatch m = router.Match("GET", "/faqs/search");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/faqs/search");
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(router.Match("GET", "/faqs/7").route->pattern, "/faqs/{id}");
}

TEST(Router, FallsBackToParamRouteWhenLiteralLacksTheMethod) {
  Router router;
  router.AddSync("GET", "/faqs/search", Ok);
  router.AddSync("DELETE", "/faqs/{id}", Ok);
  RouteMatch m = router.Match("DELETE", "/faqs/search");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/faqs/{id}");
}

TEST(Router, UnknownPathIsNotFoundAndWrongMethodListsAllowed) {
  Router router;
  router.AddSync("GET", "/items", Ok);
  router.AddSync("POST", "/items", Ok);
  EXPECT_EQ(router.Match("GET", "/nothing").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/items/").kind, RouteMatch::Kind::kNotFound);
  RouteMatch m = router.Match("PUT", "/items");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, POST");
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.AddSync("GET", "/healthz", Ok);
  RouteMatch m = router.Match("HEAD", "/healthz");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->method, "GET");
}

TEST(Router, RestParameterTakesTheRemainingPath) {
  Router router;
  router.AddSync("GET", "/console/{file*}", Ok);
  RouteMatch m = router.Match("GET", "/console/js/app.js");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params.at(0).second, "js/app.js");
  m = router.Match("GET", "/console/");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params.at(0).second, "");
}

TEST(Router, BadPathsAreReported) {
  Router router;
  router.AddSync("GET", "/a/{x}", Ok);
  EXPECT_EQ(router.Match("GET", "/a/%zz").kind, RouteMatch::Kind::kBadPath);
  EXPECT_EQ(router.Match("GET", "a").kind, RouteMatch::Kind::kBadPath);
  EXPECT_EQ(router.Match("GET", "*").kind, RouteMatch::Kind::kBadPath);
}

TEST(Router, MalformedOrDuplicateRegistrationsSetStatus) {
  Router unclosed;
  unclosed.AddSync("GET", "/a/{id", Ok);
  EXPECT_EQ(unclosed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unclosed.status().message().find("/a/{id"), std::string::npos);

  Router duplicate;
  duplicate.AddSync("GET", "/a", Ok);
  duplicate.AddSync("GET", "/a", Ok);
  EXPECT_FALSE(duplicate.status().ok());

  Router conflicting;
  conflicting.AddSync("GET", "/a/{id}", Ok);
  conflicting.AddSync("GET", "/a/{name}/b", Ok);
  EXPECT_FALSE(conflicting.status().ok());

  Router rest_not_last;
  rest_not_last.AddSync("GET", "/a/{rest*}/b", Ok);
  EXPECT_FALSE(rest_not_last.status().ok());

  Router relative;
  relative.AddSync("GET", "a", Ok);
  EXPECT_FALSE(relative.status().ok());
}

TEST(Router, ApiRoutesAreAuthenticatedByDefaultAndCanOptOut) {
  Router router;
  router.AddSync("GET", "/api/v1/faqs", Ok);
  router.AddSync("POST", "/api/v1/login", Ok, RouteOptions::Public());
  router.AddSync("GET", "/healthz", Ok);
  router.AddSync("GET", "/console/admin", Ok, RouteOptions::Role("admin"));
  EXPECT_TRUE(router.Match("GET", "/api/v1/faqs").route->authenticated);
  EXPECT_FALSE(router.Match("POST", "/api/v1/login").route->authenticated);
  EXPECT_FALSE(router.Match("GET", "/healthz").route->authenticated);
  EXPECT_TRUE(router.Match("GET", "/console/admin").route->authenticated);
  EXPECT_EQ(router.Match("GET", "/console/admin").route->role, "admin");
}

TEST(RoleSatisfies, FollowsAgentSupervisorAdminLadder) {
  EXPECT_TRUE(RoleSatisfies("admin", "supervisor"));
  EXPECT_TRUE(RoleSatisfies("supervisor", "supervisor"));
  EXPECT_FALSE(RoleSatisfies("agent", "supervisor"));
  EXPECT_TRUE(RoleSatisfies("agent", ""));
  EXPECT_FALSE(RoleSatisfies("bot", "agent"));
  EXPECT_TRUE(RoleSatisfies("auditor", "auditor"));
  EXPECT_FALSE(RoleSatisfies("admin", "auditor"));
}

TEST(PrincipalOf, RoundTripsAndIsAbsentByDefault) {
  HttpRequest request;
  EXPECT_FALSE(PrincipalOf(request).has_value());
  SetPrincipal(request, Principal{"alice", "agent"});
  HttpRequest copy = request;
  auto p = PrincipalOf(copy);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->subject, "alice");
  EXPECT_EQ(p->role, "agent");
}

}  // namespace
}  // namespace kefu::server
