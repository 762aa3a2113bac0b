#include "server/url.h"

#include <gtest/gtest.h>

namespace kefu::server {
namespace {

TEST(PercentDecode, DecodesEscapesAndUtf8) {
  Result<std::string> r = PercentDecode("%E5%AE%A2%E6%9C%8D/a%20b+c");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "客服/a b+c");
}

TEST(PercentDecode, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
}

TEST(PercentDecode, RejectsTruncatedBadHexAndNul) {
  EXPECT_EQ(PercentDecode("abc%2").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PercentDecode("abc%").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PercentDecode("%zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PercentDecode("a%00b").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseQuery, SplitsDecodesAndKeepsFirstOfRepeatedKeys) {
  auto r = ParseQuery("q=%E9%80%80%E6%AC%BE+%E6%94%BF%E7%AD%96&page=2&flag&&page=9");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at("q"), "退款 政策");
  EXPECT_EQ(r->at("page"), "2");
  EXPECT_EQ(r->at("flag"), "");
  EXPECT_EQ(r->size(), 3u);
}

TEST(ParseQuery, RejectsBadEscape) {
  EXPECT_FALSE(ParseQuery("a=%G1").ok());
}

}  // namespace
}  // namespace kefu::server
