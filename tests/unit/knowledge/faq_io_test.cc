#include "knowledge/faq_io.h"

#include <gtest/gtest.h>

// GCC 12 reports a false -Wrestrict inside std::string assignment at -O2 (GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

namespace kefu::knowledge {
namespace {

TEST(FaqIo, JsonlReportsBadLinesWithNumbersAndKeepsGoodOnes) {
  const std::string text =
      "{\"id\": \"a\", \"question\": \"怎么退款\", \"answer\": \"x\"}\n"
      "\n"
      "{\"id\": \"b\", \"question\": \"\", \"answer\": \"x\"}\n"
      "not json\n"
      "{\"question\": \"发票\", \"answer\": \"y\", \"tags\": [\"t\"], \"enabled\": false}\n";
  ParsedFaqs p = ParseFaqJsonl(text);
  ASSERT_EQ(p.faqs.size(), 2u);
  EXPECT_EQ(p.lines, (std::vector<size_t>{1, 5}));
  EXPECT_FALSE(p.faqs[1].enabled);
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].line, 3u);
  EXPECT_NE(p.errors[0].reason.find("question"), std::string::npos);
  EXPECT_EQ(p.errors[1].line, 4u);
}

TEST(FaqIo, CsvRoundTripsQuotesNewlinesAndLists) {
  Faq f;
  f.id = std::string("q1");
  f.question = std::string("怎么开\"发票\"");
  f.answer = std::string("第一行\n第二行, 逗号");
  f.similar_questions = {"发票怎么开", "能开发票吗"};
  f.tags = {"财务"};
  f.category = std::string("发票");
  f.enabled = false;
  ParsedFaqs p = ParseFaqCsv(FormatFaqCsv({f, f}));
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].reason;
  ASSERT_EQ(p.faqs.size(), 2u);
  EXPECT_EQ(p.faqs[0], f);
  EXPECT_EQ(p.lines[1], 4u);  // header, record over two lines, then the second record
}

TEST(FaqIo, CsvRejectsEmptyQuestionWithItsLine) {
  ParsedFaqs p = ParseFaqCsv("id,question,answer\na,怎么退款,x\nb,,y\nc,发票,z,,,,maybe\n");
  ASSERT_EQ(p.faqs.size(), 1u);
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].line, 3u);
  EXPECT_NE(p.errors[0].reason.find("question"), std::string::npos);
  EXPECT_EQ(p.errors[1].line, 4u);
}

TEST(FaqIo, JsonlOutputParsesBack) {
  Faq f;
  f.id = std::string("x");
  f.question = std::string("会员");
  f.answer = std::string("a");
  f.answers_by_channel["wecom"] = "b";
  ParsedFaqs p = ParseFaqJsonl(FormatFaqJsonl({f}));
  ASSERT_EQ(p.faqs.size(), 1u);
  EXPECT_EQ(p.faqs[0], f);
}

}  // namespace
}  // namespace kefu::knowledge
