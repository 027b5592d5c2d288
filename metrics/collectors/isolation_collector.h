#pragma once

#include "metrics/collector.h"

namespace hostiso {

// CPU roles and kernel isolation, from the IsolationSnapshot of this scrape
// (collector "isolation"): hostiso_cpu_role, hostiso_cpu_isolated,
// hostiso_cpu_nohz_full, hostiso_cpu_online, hostiso_isolation_configured,
// hostiso_config_info; runs the isolcpus_mismatch detector. When the CPU lists
// or kernel isolation cannot be read (IsolationSnapshot::topology_ok false),
// the per-CPU series are left out, the detector does not run, and the
// collector fails.
class IsolationCollector : public Collector {
 public:
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;
};

}  // namespace hostiso
