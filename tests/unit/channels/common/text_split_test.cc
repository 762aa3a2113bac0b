#include "channels/common/text_split.h"

#include <gtest/gtest.h>

#include "channels/common/wx_crypto.h"

namespace kefu::channels {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts)
    s += p;
  return s;
}

TEST(SplitUtf8, ShortTextIsOnePartAndEmptyIsNone) {
  EXPECT_EQ(SplitUtf8("hello", 2048), std::vector<std::string>{"hello"});
  EXPECT_TRUE(SplitUtf8("", 2048).empty());
}

TEST(SplitUtf8, NeverCutsAFourByteEmoji) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "😀";      // 4000 bytes
  text = "a" + text;  // shift alignment so 2048 falls mid-emoji
  auto parts = SplitUtf8(text, 2048);
  ASSERT_GE(parts.size(), 2u);
  for (const auto& p : parts) {
    EXPECT_LE(p.size(), 2048u);
    EXPECT_TRUE(IsValidUtf8(p));
  }
  EXPECT_EQ(Join(parts), text);
}

TEST(SplitUtf8, CjkTextSplitsOnCodePointsWithinByteLimit) {
  std::string text;
  for (int i = 0; i < 1500; ++i)
    text += "客";  // 3 bytes each
  auto parts = SplitUtf8(text, 2048);
  for (const auto& p : parts) {
    EXPECT_LE(p.size(), 2048u);
    EXPECT_TRUE(IsValidUtf8(p));
  }
  EXPECT_EQ(Join(parts), text);
}

TEST(SplitUtf8, ZwjSequenceAndSkinToneAreNotSeparated) {
  std::string family = "👨‍👩‍👧";  // 18 bytes
  std::string text = std::string(10, 'x') + family + "👍🏽";
  auto parts = SplitUtf8(text, 20);
  for (const auto& p : parts) {
    EXPECT_TRUE(IsValidUtf8(p));
    EXPECT_NE(p.rfind("\xe2\x80\x8d"), p.size() - 3) << "part ends with ZWJ";
  }
  EXPECT_EQ(Join(parts), text);
}

TEST(SplitUtf8, PrefersLineBoundary) {
  std::string text = std::string(1500, 'a') + "\n" + std::string(1000, 'b');
  auto parts = SplitUtf8(text, 2048);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], std::string(1500, 'a') + "\n");
}

}  // namespace
}  // namespace kefu::channels
