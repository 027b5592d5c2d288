#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/serializer.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/rendered_family.h"

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
  // The same with each slot's text written where the slot says (a scrape
  // whose collectors appended RenderedFamilies, ExporterCollectable::
  // ScrapeText). `rendered` is in the order the slots were made.
  static std::string ToString(
      const std::vector<prometheus::MetricFamily>& families,
      const std::vector<RenderedSlot>& rendered);
  // The text of one family (what RenderedFamily keeps).
  static std::string FamilyText(const prometheus::MetricFamily& family);
};

namespace detail {
// Shortest text that parses back to `v` (what std::to_chars(double) writes);
// "NaN", "+Inf", "-Inf" as Prometheus expects.
void AppendSampleValue(std::string& out, double v);
// The same into `p`, which has room for kMaxSampleValueLength bytes; returns
// the end of what was written.
inline constexpr std::size_t kMaxSampleValueLength = 32;
char* WriteSampleValue(char* p, double v);
// Label values and HELP text come from the host (process, domain and IRQ
// names, paths, nova.conf values) and may hold any bytes. Prometheus rejects a
// whole scrape whose label value is not UTF-8, so every ill-formed sequence
// (stray continuation bytes, overlong forms, surrogates, code points above
// U+10FFFF, truncated sequences, 0xC0/0xC1/0xF5-0xFF) becomes U+FFFD, one per
// maximal subpart as in Unicode's "U+FFFD substitution of maximal subparts"
// (what Python's and browsers' decoders do). Then the text format's escapes:
// label values escape '\', '"' and newline; HELP escapes '\' and newline.
// Other control bytes (NUL, tab, CR) are valid UTF-8 that promtool, Prometheus
// and prometheus_client accept, and are kept.
void AppendEscapedLabelValue(std::string& out, std::string_view v);
void AppendEscapedHelp(std::string& out, std::string_view help);
// `v` with ill-formed UTF-8 replaced as above, unescaped (for families handed
// to prometheus::TextSerializer, which escapes but never checks UTF-8).
std::string ToValidUtf8(std::string_view v);
}  // namespace detail

}  // namespace hostiso
