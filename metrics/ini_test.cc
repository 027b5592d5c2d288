#include "metrics/ini.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

TEST(IniTest, SectionsCommentsRepeatedKeysContinuations) {
  auto ini = ParseIni(
      "# comment\n"
      "[DEFAULT]\n"
      "; another comment\n"
      "a = 1\n"
      "a=2\n"
      "b: x y\n"
      "multi = first\n"
      "   second\n"
      "\n"
      "[compute]\r\n"
      "cpu_dedicated_set = 2-3\r\n",
      "nova.conf");
  ASSERT_TRUE(ini.ok()) << ini.error();
  ASSERT_TRUE(ini->Last("DEFAULT", "a"));
  EXPECT_EQ(ini->Last("DEFAULT", "a")->value, "2");
  EXPECT_EQ(ini->Last("DEFAULT", "a")->line, 5);
  EXPECT_EQ(ini->All("DEFAULT", "a")->size(), 2U);
  EXPECT_EQ(ini->Last("DEFAULT", "b")->value, "x y");
  EXPECT_EQ(ini->Last("DEFAULT", "multi")->value, "first\nsecond");
  EXPECT_EQ(ini->Last("compute", "cpu_dedicated_set")->value, "2-3");
  EXPECT_FALSE(ini->Last("compute", "missing"));
  EXPECT_FALSE(ini->Last("nosuch", "a"));
}

TEST(IniTest, ErrorsNameFileAndLine) {
  auto no_section = ParseIni("a = 1\n", "/etc/nova/nova.conf");
  ASSERT_FALSE(no_section.ok());
  EXPECT_EQ(no_section.error(),
            "/etc/nova/nova.conf:1: 'key = value' before any [section] header");

  auto bad_header = ParseIni("[DEFAULT]\n[compute\n", "n.conf");
  ASSERT_FALSE(bad_header.ok());
  EXPECT_NE(bad_header.error().find("n.conf:2: expected a section header"),
            std::string::npos);

  auto no_equals = ParseIni("[DEFAULT]\njust words\n", "n.conf");
  ASSERT_FALSE(no_equals.ok());
  EXPECT_NE(no_equals.error().find("n.conf:2: expected 'key = value'"),
            std::string::npos);

  auto no_key = ParseIni("[DEFAULT]\n = 3\n", "n.conf");
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.error().find("n.conf:2: expected a key"), std::string::npos);
}

TEST(IniTest, ErrorsNeverQuoteTheLine) {
  // A password split over lines, a header typo in the [database] section:
  // the error names file, line and section, never the text.
  for (const char* text : {
           "[database]\nconnection = mysql://nova:S3cr3tPassw0rd@db\n"
           "S3cr3tPassw0rd\n",
           "[database]\nS3cr3tPassw0rd\n",
           "[S3cr3tPassw0rd\n",
           "[DEFAULT]\n[S3cr3tPassw0rd x\n",
       }) {
    auto r = ParseIni(text, "nova.conf");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().find("S3cr3t"), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find("nova.conf:"), 0U) << r.error();
  }
  EXPECT_EQ(ParseIni("[database]\nS3cr3tPassw0rd\n", "nova.conf").error(),
            "nova.conf:2: expected 'key = value' in [database]");
}

}  // namespace
}  // namespace hostiso
