#pragma once

#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/detectors/irq_on_guest_cpu.h"
#include "metrics/procfs/host_paths.h"

namespace hostiso {

// Collector "interrupts": hostiso_cpu_device_interrupts_total{cpu} and the
// irq_on_guest_cpu violation. /proc/interrupts is parsed at every scrape
// (one read of a few KiB).
class InterruptsCollector : public Collector {
 public:
  explicit InterruptsCollector(const HostPaths& paths);
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;

 private:
  std::string path_;
  detail::InterruptTracker tracker_;
};

}  // namespace hostiso
