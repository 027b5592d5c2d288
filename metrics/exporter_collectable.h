#pragma once

#include <prometheus/collectable.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/isolation_source.h"
#include "metrics/violations.h"

namespace hostiso {

struct BuildInfo {
  std::string version;
  std::string revision;
};

// The one prometheus::Collectable the HTTP server serves. Each scrape:
// refreshes the isolation snapshot, runs every enabled collector (timing each,
// catching anything it throws), then appends the self-metrics and the
// violation families. Scrapes are serialized: collectors keep counter state.
class ExporterCollectable : public prometheus::Collectable {
 public:
  ExporterCollectable(BuildInfo build,
                      std::shared_ptr<IsolationSource> isolation,
                      std::vector<std::unique_ptr<Collector>> collectors,
                      std::shared_ptr<ViolationRegistry> violations,
                      std::size_t max_violation_info);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  BuildInfo build_;
  std::shared_ptr<IsolationSource> isolation_;
  std::vector<std::unique_ptr<Collector>> collectors_;
  std::shared_ptr<ViolationRegistry> violations_;
  std::size_t max_violation_info_;
  mutable std::mutex scrape_mu_;
};

}  // namespace hostiso
