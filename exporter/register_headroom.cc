#include <memory>

#include "exporter/component_registration.h"
#include "metrics/headroom/disk_collector.h"
#include "metrics/headroom/memory_collector.h"

namespace hostiso {

// The memory collector reads a few small procfs/sysfs files per scrape and
// runs on the scrape path; the disk collector measures on its own thread
// (statvfs can hang on network filesystems, vgs needs a timeout).
void RegisterHeadroomCollectors(const Flags& flags, const ComponentDeps& deps,
                                CollectorSet& set) {
  if (flags.collectors.count("memory") > 0) {
    set.collectors.push_back(std::make_unique<MemoryCollector>(
        flags.procfs, flags.sysfs, deps.guests));
  }
  if (flags.collectors.count("disk") > 0) {
    DiskCollectorOptions options;
    options.env.procfs = flags.procfs;
    options.env.sysfs = flags.sysfs;
    options.env.rootfs = flags.rootfs;
    std::shared_ptr<IsolationSource> isolation = deps.isolation;
    auto disk = std::make_unique<DiskCollector>(
        std::move(options), [isolation]() -> std::optional<NovaConfig> {
          if (!isolation) return std::nullopt;
          return isolation->Current()->nova;
        });
    disk->Start();
    set.stoppers.push_back(disk->Stopper());
    set.collectors.push_back(std::move(disk));
  }
}

}  // namespace hostiso
