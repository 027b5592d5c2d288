#include "metrics/text_exposition.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/family_builder.h"

namespace hostiso {
namespace {

TEST(TextExpositionTest, FormatsLikeTheTextFormat) {
  std::vector<prometheus::MetricFamily> fams;
  auto a = FamilyBuilder::Counter("a_total", "help with \\ and\nnewline");
  a.Add({{"cpu", "0"}, {"subject", "comm \"x\"\\y\nz"}}, 1.5);
  std::move(a).AppendTo(fams);
  auto b = FamilyBuilder::Gauge("b", "plain");
  b.Add({}, 3);
  std::move(b).AppendTo(fams);
  EXPECT_EQ(TextExposition::ToString(fams),
            "# HELP a_total help with \\\\ and\\nnewline\n"
            "# TYPE a_total counter\n"
            "a_total{cpu=\"0\",subject=\"comm \\\"x\\\"\\\\y\\nz\"} 1.5\n"
            "# HELP b plain\n"
            "# TYPE b gauge\n"
            "b 3\n");
}

// A RenderedFamily's text goes where its slot says, as if its family were
// there: before the family at the slot's index, after the last at the end.
TEST(TextExpositionTest, RenderedSlotsAreWrittenInPlace) {
  auto family = [](const std::string& name, double v) {
    auto b = FamilyBuilder::Gauge(name, "h " + name);
    b.Add({{"cpu", "1"}}, v);
    return std::move(b).Build();
  };
  const auto first = RenderedFamily::Make(family("r_first", 1));
  const auto middle = RenderedFamily::Make(family("r_middle", 2));
  const auto last = RenderedFamily::Make(family("r_last", 3));
  EXPECT_EQ(first->text,
            "# HELP r_first h r_first\n# TYPE r_first gauge\n"
            "r_first{cpu=\"1\"} 1\n");
  const std::vector<prometheus::MetricFamily> collected = {family("a", 4),
                                                           family("b", 5)};
  const std::vector<RenderedSlot> slots = {
      {0, first}, {1, middle}, {2, last}, {2, first}};
  const std::vector<prometheus::MetricFamily> whole = {
      first->family, collected[0], middle->family,
      collected[1],  last->family, first->family};
  EXPECT_EQ(TextExposition::ToString(collected, slots),
            TextExposition::ToString(whole));
  EXPECT_EQ(TextExposition::ToString({}, {{0, middle}}), middle->text);
}

TEST(TextExpositionTest, SpecialAndRoundTripValues) {
  std::string s;
  for (double v : {std::nan(""), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), 0.1 + 0.2, 1e300,
                   -2.5e-7, 18446744073709551615.0}) {
    s.clear();
    detail::AppendSampleValue(s, v);
    if (std::isnan(v)) {
      EXPECT_EQ(s, "NaN");
    } else if (std::isinf(v)) {
      EXPECT_EQ(s, v > 0 ? "+Inf" : "-Inf");
    } else {
      EXPECT_EQ(std::stod(s), v) << s;
    }
  }
}

// The fast paths (integral values, seconds from nanoseconds) write exactly
// what std::to_chars(double) writes (the golden files depend on it),
// including its "1e+06" and "1e-04" forms and -0.
TEST(TextExpositionTest, FastPathsMatchShortestDoubleText) {
  std::vector<double> values;
  for (int i = -2000; i <= 2000; ++i) values.push_back(i);
  double power = 1;
  for (int e = 0; e <= 17; ++e, power *= 10) {
    for (double m : {1.0, 2.0, 12.0, 120.0, 123.0, 1234567.0, 99.0}) {
      values.push_back(m * power);
      values.push_back(-m * power);
      values.push_back(m * power + 1);
    }
  }
  for (double v : {9007199254740991.0, 9007199254740992.0, 9007199254740993.0,
                   -9007199254740991.0, 1073741824.0, 4294967296.0, -0.0, 1e15,
                   1e16, 123456789012345.0, 0.5, -1.5}) {
    values.push_back(v);
  }
  std::uint64_t x = 88172645463325252ULL;  // xorshift: integers of any size
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    values.push_back(static_cast<double>(x >> (x % 60)));
    // Seconds from nanosecond counters, of every magnitude.
    const auto ns = x >> (x % 64);
    values.push_back(static_cast<double>(ns) / 1e9);
    values.push_back(static_cast<double>(ns % 1000000) / 1e9);
    values.push_back(static_cast<double>(ns % 1000) / 1e9);
    values.push_back(static_cast<double>(ns - ns % 1000) / 1e9);
  }
  for (double v : {0.001, 0.0001, 0.0012, 0.00012, 0.000123, 0.1, 0.25,
                   999999.999999999, 1e-9, 1.5e-8, 12.000000001}) {
    values.push_back(v);
  }
  for (double v : values) {
    char buf[32];
    char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    std::string s;
    detail::AppendSampleValue(s, v);
    EXPECT_EQ(s, std::string(buf, end)) << v;
  }
}

std::string Label(std::string_view v) {
  std::string out;
  detail::AppendEscapedLabelValue(out, v);
  return out;
}

std::string Help(std::string_view v) {
  std::string out;
  detail::AppendEscapedHelp(out, v);
  return out;
}

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string Fffd(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += kFffd;
  return out;
}

TEST(TextExpositionTest, AsciiLabelValueIsCopiedUnchanged) {
  EXPECT_EQ(Label("ovs-vswitchd 0123 _-./:"), "ovs-vswitchd 0123 _-./:");
  EXPECT_EQ(Label(""), "");
}

TEST(TextExpositionTest, EscapesQuoteBackslashNewline) {
  EXPECT_EQ(Label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(Help("a\"b\\c\nd"), "a\"b\\\\c\\nd");
}

TEST(TextExpositionTest, KeepsWellFormedMultiByteSequences) {
  // 2, 3 and 4 bytes: é, U+FFFF, U+10FFFF, the emoji U+1F600; U+0080 and
  // U+FEFF too: all valid for promtool and prometheus_client.
  for (std::string_view v : {"caf\xC3\xA9", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF",
                             "\xF0\x9F\x98\x80", "\xC2\x80", "\xEF\xBB\xBF"}) {
    EXPECT_EQ(Label(v), v);
    EXPECT_EQ(Help(v), v);
  }
}

TEST(TextExpositionTest, ReplacesInvalidBytesWithFffd) {
  // The process name of issue 11: ff fe, a quote, a backslash and a newline.
  EXPECT_EQ(Label("\xFF\xFE\"\\\n"), Fffd(2) + "\\\"\\\\\\n");
  EXPECT_EQ(Help("x\xFF\xFEy"), "x" + Fffd(2) + "y");
  // Lone continuation bytes, each its own replacement.
  EXPECT_EQ(Label("a\x80\xBF"
                  "b"),
            "a" + Fffd(2) + "b");
  // Overlong forms: C0 and C1 never start a sequence; E0 80 and F0 80 are
  // overlong 3- and 4-byte forms (each byte replaced).
  EXPECT_EQ(Label("\xC0\xAF"), Fffd(2));
  EXPECT_EQ(Label("\xC1\xBF"), Fffd(2));
  EXPECT_EQ(Label("\xE0\x80\xAF"), Fffd(3));
  EXPECT_EQ(Label("\xF0\x80\x80\xAF"), Fffd(4));
  // UTF-16 surrogates encoded in UTF-8 (CESU), lone or paired.
  EXPECT_EQ(Label("\xED\xA0\x80"), Fffd(3));
  EXPECT_EQ(Label("\xED\xA0\xBD\xED\xB8\x80"), Fffd(6));
  // Above U+10FFFF and bytes F5-FF.
  EXPECT_EQ(Label("\xF4\x90\x80\x80"), Fffd(4));
  EXPECT_EQ(Label("\xF5\x80\x80\x80"), Fffd(4));
  EXPECT_EQ(Label("\xF8\x88\x80\x80\x80"), Fffd(5));
}

TEST(TextExpositionTest, TruncatedSequencesBecomeOneFffdEach) {
  // A truncated but so-far-valid prefix is one maximal subpart.
  EXPECT_EQ(Label("a\xE2\x82"), "a" + Fffd(1));
  EXPECT_EQ(Label("\xF0\x9F\x98"), Fffd(1));
  EXPECT_EQ(Label("\xF0\x9F\x98"
                  "x"),
            Fffd(1) + "x");
  EXPECT_EQ(Label("\xC3"), Fffd(1));
  // The byte that broke the sequence starts over: a quote stays escaped.
  EXPECT_EQ(Label("\xE2\x82\""), Fffd(1) + "\\\"");
  EXPECT_EQ(Label("\xE2\xC3\xA9"), Fffd(1) + "\xC3\xA9");
}

TEST(TextExpositionTest, KeepsControlBytesOtherThanNewline) {
  // NUL, tab, CR, DEL: valid UTF-8 that promtool, Prometheus 2.42 and
  // prometheus_client 0.16 accept in a label value (tried on Debian 12).
  std::string v("a\0b\tc\rd\x7f", 8);
  EXPECT_EQ(Label(v), v);
}

TEST(TextExpositionTest, RepairsEveryFamilyIncludingDelegatedOnes) {
  std::vector<prometheus::MetricFamily> fams;
  auto a = FamilyBuilder::Counter("a_total", "help \xFF");
  a.Add({{"comm", "\xFF\xFE\"\\\n"}}, 1);
  std::move(a).AppendTo(fams);
  prometheus::MetricFamily summary;
  summary.name = "s";
  summary.help = "h\xC0\n+\\";
  summary.type = prometheus::MetricType::Summary;
  prometheus::ClientMetric m;
  m.label.push_back({"l", "x\xED\xA0\x80"});
  m.summary.sample_count = 1;
  m.summary.sample_sum = 2;
  summary.metric.push_back(m);
  fams.push_back(summary);
  std::string text = TextExposition::ToString(fams);
  EXPECT_NE(text.find("# HELP a_total help " + Fffd(1) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("a_total{comm=\"" + Fffd(2) + "\\\"\\\\\\n\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("s_count{l=\"x" + Fffd(3) + "\"} 1"), std::string::npos)
      << text;
  // Found by fuzz/exposition_fuzzer.cc: prometheus-cpp writes a summary's
  // HELP verbatim, so a newline in it started a line "+".
  EXPECT_NE(text.find("# HELP s h" + Fffd(1) + "\\n+\\\\\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find('\xFF'), std::string::npos);
  EXPECT_EQ(text.find('\xC0'), std::string::npos);
  EXPECT_EQ(text.find('\xED'), std::string::npos);
}

TEST(TextExpositionTest, SameSamplesAsPrometheusCpp) {
  std::vector<prometheus::MetricFamily> fams;
  auto b = FamilyBuilder::Gauge("g", "h");
  for (int i = 0; i < 50; ++i) {
    b.Add({{"cpu", std::to_string(i)}}, i * 1.25);
  }
  std::move(b).AppendTo(fams);
  std::ostringstream theirs;
  prometheus::TextSerializer().Serialize(theirs, fams);
  EXPECT_EQ(TextExposition::ToString(fams), theirs.str());
}

}  // namespace
}  // namespace hostiso
