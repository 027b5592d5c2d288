#pragma once

#include <memory>
#include <string>

#include "metrics/collector.h"
#include "metrics/guest_inventory.h"
#include "metrics/log.h"

namespace hostiso {

// Memory headroom against nova.conf's reserved_host_memory_mb:
// hostiso_memory_{total,available,host_used,reserved,reserved_hugepages,
// reserve_headroom}_bytes, the huge page pools and the terms of the host-used
// formula (memory_model.h), and the memory_reserve_breach detector.
//
// Reads <procfs>/meminfo, <sysfs>/kernel/mm/hugepages and one
// <procfs>/PID/statm per guest of the inventory at every scrape: a handful of
// small files, no /proc walk. Without nova.conf there is no reservation: the
// reserved and headroom gauges are left out and the detector reports nothing.
class MemoryCollector : public Collector {
 public:
  MemoryCollector(std::string procfs, std::string sysfs,
                  std::shared_ptr<const GuestInventoryHolder> guests);
  std::string_view Name() const override { return "memory"; }
  bool Collect(const ScrapeContext& ctx,
               std::vector<prometheus::MetricFamily>& out) override;

 private:
  std::string procfs_;
  std::string sysfs_;
  std::shared_ptr<const GuestInventoryHolder> guests_;
  std::uint64_t page_size_;
  log::ErrorLatch meminfo_latch_{"reading /proc/meminfo"};
  log::ErrorLatch hugepages_latch_{"reading huge page pools from sysfs"};
};

}  // namespace hostiso
