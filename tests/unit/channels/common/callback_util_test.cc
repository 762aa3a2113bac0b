#include "channels/common/callback_util.h"

#include <gtest/gtest.h>

#include <cctype>

namespace kefu::channels {
namespace {

TEST(IsValidAppName, AcceptsUrlSafeNamesOnly) {
  EXPECT_TRUE(IsValidAppName("main"));
  EXPECT_TRUE(IsValidAppName("shop-2_cn"));
  EXPECT_FALSE(IsValidAppName(""));
  EXPECT_FALSE(IsValidAppName("a/b"));
  EXPECT_FALSE(IsValidAppName("客服"));
  EXPECT_FALSE(IsValidAppName("a b"));
}

TEST(TrimAsciiView, TrimsBothEnds) {
  EXPECT_EQ(TrimAsciiView("  转人工 \r\n"), "转人工");
  EXPECT_EQ(TrimAsciiView("   "), "");
}

TEST(RandomAlnum, HasTheLengthAndAlphabetAsked) {
  std::string s = RandomAlnum(16);
  ASSERT_EQ(s.size(), 16u);
  for (char c : s)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
  EXPECT_NE(RandomAlnum(16), s);
}

}  // namespace
}  // namespace kefu::channels
