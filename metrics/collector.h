#pragma once

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

#include "metrics/isolation_source.h"
#include "metrics/violations.h"

namespace hostiso {

// What every collector sees during one scrape.
struct ScrapeContext {
  const IsolationSnapshot& isolation;
  ViolationRegistry& violations;
};

// One source of metrics, enabled by --collector.<Name()>. Collect() is called
// under the exporter's scrape lock (never concurrently with itself). It
// appends its families and returns false when its source failed; it logs the
// reason itself (once per distinct error, see log::ErrorLatch). It must not
// throw and must not block on anything slow: slow sources (libvirt, the thread
// census) refresh on their own threads and Collect() serves their last result.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view Name() const = 0;
  virtual bool Collect(const ScrapeContext& ctx,
                       std::vector<prometheus::MetricFamily>& out) = 0;
};

}  // namespace hostiso
