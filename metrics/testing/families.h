#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <vector>

namespace hostiso::testing {

// The samples of one family keyed by their labels ("cpu=3,role=host,"; ""
// without labels), counter or gauge value by the family's type. Lets
// collector tests assert on exact series without caring about order.
inline std::map<std::string, double> ByLabels(
    const std::vector<prometheus::MetricFamily>& out, const std::string& name) {
  std::map<std::string, double> r;
  for (const auto& f : out) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      std::string key;
      for (const auto& l : m.label) key += l.name + "=" + l.value + ",";
      r[key] = f.type == prometheus::MetricType::Counter ? m.counter.value
                                                         : m.gauge.value;
    }
  }
  return r;
}

}  // namespace hostiso::testing
