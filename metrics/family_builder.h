#pragma once

#include <prometheus/metric_family.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "metrics/mutex.h"

namespace hostiso {

// Families of an earlier scrape, given back once their text was written, so
// that the next scrape's FamilyBuilder of the same name fills their series in
// place: the label vectors and label strings keep their capacity, and a
// steady-state scrape allocates nothing per series (libvirt: 18,000 series,
// two allocations each otherwise). Every field of a reused series is
// overwritten, so what a scrape exposes never depends on what was given back
// (nothing, another scrape's families, or families of another shape). Only
// families a builder asked for are kept, one per name.
class FamilyPool {
 public:
  // The family last given back under `name`, or an empty one; from now on
  // families of this name are kept when given back.
  prometheus::MetricFamily Take(const std::string& name) EXCLUDES(mu_);
  void GiveBack(std::vector<prometheus::MetricFamily> families) EXCLUDES(mu_);

 private:
  Mutex mu_;
  std::unordered_map<std::string, prometheus::MetricFamily> free_
      GUARDED_BY(mu_);
  std::unordered_set<std::string> wanted_ GUARDED_BY(mu_);
};

// Builds one prometheus::MetricFamily of gauges or counters with labels.
// prometheus-cpp 1.0.1 has no Counter::Set, so kernel counters are exposed by
// building families directly from a custom Collectable.
class FamilyBuilder {
 public:
  using Labels =
      std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // With a pool, the family's series reuse the storage of the one last
  // given back under the same name (see FamilyPool).
  static FamilyBuilder Gauge(std::string name, std::string help,
                             FamilyPool* pool = nullptr);
  // Appends a family of one unlabelled gauge.
  static void AppendGauge(std::vector<prometheus::MetricFamily>& out,
                          std::string name, std::string help, double value);
  static FamilyBuilder Counter(std::string name, std::string help,
                               FamilyPool* pool = nullptr);

  FamilyBuilder& Add(Labels labels, double value);
  FamilyBuilder& Add(
      const std::vector<std::pair<std::string, std::string>>& labels,
      double value);
  bool Empty() const { return used_ == 0; }
  void Reserve(std::size_t n) { family_.metric.reserve(n); }
  // Appends the family to `out` (even when empty: the HELP/TYPE lines tell the
  // reader the metric exists).
  void AppendTo(std::vector<prometheus::MetricFamily>& out) &&;
  // The family itself (for a RenderedFamily).
  prometheus::MetricFamily Build() &&;

 private:
  FamilyBuilder(std::string name, std::string help, prometheus::MetricType type,
                FamilyPool* pool);
  prometheus::ClientMetric& NextSample();
  prometheus::MetricFamily family_;
  // Series filled so far; family_.metric beyond them is reused storage.
  std::size_t used_ = 0;
};

}  // namespace hostiso
