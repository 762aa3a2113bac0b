#include "knowledge/text_normalizer.h"

#include <gtest/gtest.h>

#include <string>

namespace kefu::knowledge {
namespace {

TEST(TextNormalizer, FoldsFullWidthAndCase) {
  EXPECT_EQ(NormalizeToUtf8("ＡＢＣ１２３ａｂｃ"), "abc123abc");
  EXPECT_EQ(NormalizeToUtf8("VIP会员"), "vip会员");
}

TEST(TextNormalizer, MapsFullWidthPunctuationToAscii) {
  EXPECT_EQ(NormalizeToUtf8("花呗？！，"), "花呗?!,");
  EXPECT_EQ(NormalizeToUtf8("a\u3000b"), "a b");  // ideographic space
}

TEST(TextNormalizer, ConvertsTraditionalToSimplified) {
  EXPECT_EQ(NormalizeToUtf8("花唄還款"), "花呗还款");
  EXPECT_EQ(NormalizeToUtf8("為什麼借唄額度沒了"), "为什么借呗额度没了");
}

TEST(TextNormalizer, KeepsOffsetsIntoTheOriginalBytes) {
  const std::string in = "Ａ花";
  NormalizedText n = Normalize(in);
  ASSERT_EQ(n.chars.size(), 2u);
  EXPECT_EQ(n.begin[0], 0u);
  EXPECT_EQ(n.end[0], 3u);
  EXPECT_EQ(n.begin[1], 3u);
  EXPECT_EQ(n.end[1], 6u);
}

TEST(TextNormalizer, ReplacesInvalidUtf8AndHandlesEmpty) {
  EXPECT_TRUE(Normalize("").chars.empty());
  const std::u32string s = FromUtf8(std::string("a\xff\xc3") + "b");
  EXPECT_EQ(s, std::u32string({U'a', 0xFFFD, 0xFFFD, U'b'}));
}

TEST(TextNormalizer, RoundTripsUtf8IncludingAstralCharacters) {
  const std::string in = "退款😀𠀀";
  EXPECT_EQ(ToUtf8(FromUtf8(in)), in);
  EXPECT_TRUE(IsHan(U'花'));
  EXPECT_FALSE(IsHan(U'a'));
}

}  // namespace
}  // namespace kefu::knowledge
