#include "metrics/text_exposition.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <limits>
#include <sstream>

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
