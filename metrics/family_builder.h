#pragma once

#include <prometheus/metric_family.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hostiso {

// Builds one prometheus::MetricFamily of gauges or counters with labels.
// prometheus-cpp 1.0.1 has no Counter::Set, so kernel counters are exposed by
// building families directly from a custom Collectable.
class FamilyBuilder {
 public:
  using Labels =
      std::initializer_list<std::pair<std::string_view, std::string_view>>;

  static FamilyBuilder Gauge(std::string name, std::string help);
  // Appends a family of one unlabelled gauge.
  static void AppendGauge(std::vector<prometheus::MetricFamily>& out,
                          std::string name, std::string help, double value);
  static FamilyBuilder Counter(std::string name, std::string help);

  FamilyBuilder& Add(Labels labels, double value);
  FamilyBuilder& Add(
      const std::vector<std::pair<std::string, std::string>>& labels,
      double value);
  bool Empty() const { return family_.metric.empty(); }
  void Reserve(std::size_t n) { family_.metric.reserve(n); }
  // Appends the family to `out` (even when empty: the HELP/TYPE lines tell the
  // reader the metric exists).
  void AppendTo(std::vector<prometheus::MetricFamily>& out) &&;

 private:
  FamilyBuilder(std::string name, std::string help,
                prometheus::MetricType type);
  prometheus::MetricFamily family_;
};

}  // namespace hostiso
