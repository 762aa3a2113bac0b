#include "bot/text_util.h"

#include <gtest/gtest.h>

namespace kefu::bot {
namespace {

TEST(TextUtil, NormalizeDropsSpacesAndPunctuationAndFoldsWidthAndCase) {
  EXPECT_EQ(NormalizeForMatch("  转人工！ "), "转人工");
  EXPECT_EQ(NormalizeForMatch("Ｈｅｌｌｏ，World?"), "helloworld");
  EXPECT_EQ(NormalizeForMatch("【退款】“多久”到账…"), "退款多久到账");
  EXPECT_EQ(NormalizeForMatch("\xff\xfe退款"), "退款");
}

TEST(TextUtil, EmojiOnlyAndBlankAreDetected) {
  EXPECT_TRUE(IsBlankOrEmojiOnly(""));
  EXPECT_TRUE(IsBlankOrEmojiOnly(" \n　"));
  EXPECT_TRUE(IsBlankOrEmojiOnly("👨‍👩‍👧👍🏽❤️！"));
  EXPECT_TRUE(IsBlankOrEmojiOnly("[微笑] [捂脸]"));
  EXPECT_FALSE(IsBlankOrEmojiOnly("退款😀"));
  EXPECT_FALSE(IsBlankOrEmojiOnly("[订单号] 123"));
  EXPECT_FALSE(IsBlankOrEmojiOnly("ok"));
}

TEST(TextUtil, TruncateNeverCutsAUtf8Sequence) {
  EXPECT_EQ(TruncateCodePoints("退款😀ab", 2), "退款");
  EXPECT_EQ(TruncateCodePoints("退款😀ab", 3), "退款😀");
  EXPECT_EQ(TruncateCodePoints("ab", 10), "ab");
  EXPECT_EQ(CountCodePoints("退款😀ab"), 5u);
  // A truncated sequence at the end counts byte by byte and is never read past the end.
  EXPECT_EQ(CountCodePoints("\xe9\x80"), 2u);
}

TEST(TextUtil, ChoiceNumbersInDigitsAndChinese) {
  EXPECT_EQ(ParseChoiceNumber("2"), 2);
  EXPECT_EQ(ParseChoiceNumber("第二个"), 2);
  EXPECT_EQ(ParseChoiceNumber("二"), 2);
  EXPECT_EQ(ParseChoiceNumber("两"), 2);
  EXPECT_EQ(ParseChoiceNumber("第3条"), 3);
  EXPECT_EQ(ParseChoiceNumber("我选1"), 1);
  EXPECT_EQ(ParseChoiceNumber("1号"), 1);
  EXPECT_EQ(ParseChoiceNumber("第一个问题"), 1);
  EXPECT_EQ(ParseChoiceNumber("12"), std::nullopt);
  EXPECT_EQ(ParseChoiceNumber("0"), std::nullopt);
  EXPECT_EQ(ParseChoiceNumber("退款"), std::nullopt);
  EXPECT_EQ(ParseChoiceNumber(""), std::nullopt);
}

}  // namespace
}  // namespace kefu::bot
