#include "channels/common/xml.h"

#include <gtest/gtest.h>

namespace kefu::channels {
namespace {

TEST(FlatXml, ParsesOfficialTextMessageKeepingMsgIdExact) {
  auto f = ParseFlatXml(
      "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
      "<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n"
      "<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n"
      "<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(FieldOr(*f, "MsgId"), "4561255354251345929");
  EXPECT_EQ(FieldOr(*f, "Content"), "hello");
  EXPECT_EQ(FieldOr(*f, "AgentID"), "218");
}

TEST(FlatXml, AgentIdAsCdataOrPlainIsTheSame) {
  auto a = ParseFlatXml("<xml><AgentID><![CDATA[218]]></AgentID></xml>");
  auto b = ParseFlatXml("<xml><AgentID>218</AgentID></xml>");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(FieldOr(*a, "AgentID"), FieldOr(*b, "AgentID"));
}

TEST(FlatXml, SplitCdataCarryingTerminatorIsConcatenated) {
  auto f = ParseFlatXml("<xml><Content><![CDATA[x]]]]><![CDATA[>y]]></Content></xml>");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(FieldOr(*f, "Content"), "x]]>y");
}

TEST(FlatXml, OutboundCdataContainingTerminatorIsSplitAndRoundTrips) {
  std::string wrapped = Cdata("a]]>b]]>");
  EXPECT_EQ(wrapped, "<![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]>");
  auto f = ParseFlatXml("<xml><C>" + wrapped + "</C></xml>");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(FieldOr(*f, "C"), "a]]>b]]>");
}

TEST(FlatXml, DoctypeAndEntityDeclarationsAreRejected) {
  EXPECT_FALSE(ParseFlatXml("<!DOCTYPE xml [<!ENTITY a \"b\">]><xml><C>&a;</C></xml>").ok());
  EXPECT_FALSE(ParseFlatXml("<!doctype xml SYSTEM \"http://evil/x.dtd\"><xml/>").ok());
  EXPECT_FALSE(ParseFlatXml("<xml><C><!ENTITY x SYSTEM \"file:///etc/passwd\"></C></xml>").ok());
}

TEST(FlatXml, DeclarationsAreRejectedInAnyLetterCaseAndAnywhere) {
  EXPECT_FALSE(ParseFlatXml("<!DocType xml><xml/>").ok());
  EXPECT_FALSE(ParseFlatXml("<xml><A><![CDATA[x]]></A></xml><!eNtItY y \"z\">").ok());
  EXPECT_FALSE(ParseFlatXml("<xml><A><![CDATA[<!ENTITY]]></A></xml>").ok());  // conservative
  auto ok = ParseFlatXml("<xml><A><![CDATA[<!-- <!DOC ]]></A><B>!DOCTYPE</B></xml>");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(FieldOr(*ok, "B"), "!DOCTYPE");
}

TEST(FlatXml, UndeclaredEntityIsNotExpanded) {
  auto f = ParseFlatXml("<xml><C>&xxe;</C></xml>");
  if (f.ok()) {
    EXPECT_EQ(FieldOr(*f, "C").find("root:"), std::string_view::npos);
  }
}

TEST(FlatXml, MalformedAndNonUtf8DocumentsAreErrors) {
  EXPECT_FALSE(ParseFlatXml("<xml><a></xml>").ok());
  EXPECT_FALSE(ParseFlatXml("").ok());
  EXPECT_FALSE(ParseFlatXml("not xml").ok());
  EXPECT_FALSE(ParseFlatXml("<xml><C>\xff</C></xml>").ok());
}

TEST(FlatXml, EmojiAndCjkSurviveUntouched) {
  auto f = ParseFlatXml("<xml><C><![CDATA[你好 😀👍🏽👨‍👩‍👧]]></C></xml>");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(FieldOr(*f, "C"), "你好 😀👍🏽👨‍👩‍👧");
}

TEST(FlatXml, HugeBodyIsParsedWithoutCrash) {
  std::string big = "<xml><C><![CDATA[" + std::string(4 << 20, 'a') + "]]></C></xml>";
  auto f = ParseFlatXml(big);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(FieldOr(*f, "C").size(), size_t{4} << 20);
}

}  // namespace
}  // namespace kefu::channels
