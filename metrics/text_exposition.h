#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/serializer.h>

#include <ostream>
#include <string>
#include <vector>

namespace hostiso {

// Prometheus text format 0.0.4 for counter, gauge and untyped families,
// written into one std::string with std::to_chars for numbers. prometheus-cpp's
// TextSerializer formats through iostreams and took ~75% of a 256-CPU scrape
// (tests/bench/scrape_bench.cc); this one is the same format, faster. Summary
// and histogram families are delegated to prometheus::TextSerializer.
class TextExposition : public prometheus::Serializer {
 public:
  using prometheus::Serializer::Serialize;
  void Serialize(
      std::ostream& out,
      const std::vector<prometheus::MetricFamily>& families) const override;
  static std::string ToString(
      const std::vector<prometheus::MetricFamily>& families);
};

namespace detail {
// Shortest text that parses back to `v`; "NaN", "+Inf", "-Inf" as Prometheus
// expects.
void AppendSampleValue(std::string& out, double v);
void AppendEscapedLabelValue(std::string& out, const std::string& v);
void AppendEscapedHelp(std::string& out, const std::string& help);
}  // namespace detail

}  // namespace hostiso
