#pragma once

#include "metrics/collector.h"
#include "metrics/log.h"

namespace hostiso {

// CPU roles and kernel isolation, from the IsolationSnapshot of this scrape:
// hostiso_cpu_role, hostiso_cpu_isolated, hostiso_cpu_nohz_full,
// hostiso_cpu_online, hostiso_isolation_configured, hostiso_config_info; runs
// the isolcpus_mismatch detector. Fails when the sysfs CPU files are
// unreadable.
class IsolationCollector : public Collector {
 public:
  std::string_view Name() const override { return "isolation"; }
  bool Collect(const ScrapeContext& ctx,
               std::vector<prometheus::MetricFamily>& out) override;

 private:
  log::ErrorLatch latch_{"reading CPU topology from sysfs"};
};

}  // namespace hostiso
