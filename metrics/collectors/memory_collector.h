#pragma once

#include <memory>
#include <string>

#include "metrics/collector.h"
#include "metrics/guest_inventory.h"
#include "metrics/headroom/memory_model.h"
#include "metrics/log.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/procfs/meminfo.h"

namespace hostiso {

// Memory headroom against nova.conf's reserved_host_memory_mb, and guest
// memory against the RAM allocation ratio (collector "memory"):
// hostiso_memory_{total,available,host_used,reserved,reserved_hugepages,
// reserve_headroom,guest_allocated,guest_capacity}_bytes, the huge page pools
// and the terms of the host-used formula (headroom/memory_model.h), and the
// memory_reserve_breach and ram_overcommit detectors.
//
// Reads <procfs>/meminfo and <sysfs>/kernel/mm/hugepages at every scrape, and
// each guest QEMU's statm through the scrape's GuestSample: a handful of small
// files, no /proc walk. Without nova.conf there is no reservation: the
// reserved and headroom gauges are left out and the detectors report nothing.
// Without MemAvailable (kernels before 3.14) the figures built on it are left
// out and the MemTotal-based ones still served. An unreadable huge page pool
// leaves out every figure that needs the pools, and fails the collector.
// With a guest source (`guests`, the libvirt collector's inventory) that has
// not published yet, the host-used figures and the breach are left out too.
// `guests` is null on hosts without the libvirt collector: no guests.
class MemoryCollector : public Collector {
 public:
  MemoryCollector(HostPaths paths,
                  std::shared_ptr<const GuestInventoryHolder> guests);
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;

 private:
  void AppendReservation(const ScrapeContext& ctx,
                         const std::optional<MemoryBreakdown>& breakdown,
                         std::vector<prometheus::MetricFamily>& out) const;
  // Whether the guests' memory is known: no guest source, or one refresh of
  // it published.
  bool GuestsKnown() const;
  void AppendGuestMemory(const ScrapeContext& ctx, const Meminfo& meminfo,
                         const GuestSample& sample,
                         std::vector<prometheus::MetricFamily>& out) const;

  HostPaths paths_;
  std::shared_ptr<const GuestInventoryHolder> guests_;
  bool warned_no_available_ = false;
};

}  // namespace hostiso
