#include "exporter/web_escape.h"

#include <gtest/gtest.h>

#include <string>

namespace hostiso {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(HtmlEscapeTest, MarkupCharactersBecomeReferences) {
  EXPECT_EQ(HtmlEscape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
  EXPECT_EQ(HtmlEscape("instance-00000001"), "instance-00000001");
}

TEST(HtmlEscapeTest, ControlCharactersAreShownNotPassed) {
  EXPECT_EQ(HtmlEscape(std::string("a\x1b[31mb\x00"
                                   "c\x7f",
                                   10)),
            "a\\x1b[31mb\\x00c\\x7f");
  EXPECT_EQ(HtmlEscape("tab\tnl\n"), "tab\tnl\n");
  EXPECT_EQ(HtmlEscape("\xc2\x85"), "\\u0085");         // NEL, a C1 control
  EXPECT_EQ(HtmlEscape("caf\xc3\xa9"), "caf\xc3\xa9");  // é kept
}

TEST(HtmlEscapeTest, InvalidUtf8BecomesReplacementCharacter) {
  // A stray continuation byte, a truncated sequence, an overlong '<'.
  EXPECT_EQ(HtmlEscape("a\x80"
                       "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(HtmlEscape("x\xe2\x82"), "x\xef\xbf\xbd");
  EXPECT_EQ(HtmlEscape("\xc0\xbc"), "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json(std::string("\n\t\x01\x00", 4)), "\"\\n\\t\\u0001\\u0000\"");
  EXPECT_EQ(Json("</script>"), "\"</script>\"");
}

TEST(JsonStringTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(Json("\xff"
                 "ok\xed\xa0\x80"),
            "\"\xef\xbf\xbdok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

}  // namespace
}  // namespace hostiso
