#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "exporter/flags.h"
#include "metrics/census/census_worker.h"
#include "metrics/collector.h"
#include "metrics/cpu_accounting.h"
#include "metrics/cpu_shares.h"
#include "metrics/exporter_collectable.h"
#include "metrics/guest_inventory.h"
#include "metrics/isolation_source.h"
#include "metrics/latest.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/violations.h"

namespace hostiso {

// What the status page reads from collectors beside their exposition.
struct StatusFeeds {
  // Published by the cpu collector at each scrape.
  std::shared_ptr<Latest<CpuShares>> cpu_shares =
      std::make_shared<Latest<CpuShares>>();
  // Set while the census collector is built; null when it is disabled.
  std::shared_ptr<const CensusWorker> census;
};

// What a collector's factory may use.
struct CollectorDeps {
  const Flags& flags;
  HostPaths paths;
  std::shared_ptr<IsolationSource> isolation;
  std::shared_ptr<ViolationRegistry> violations;
  // The libvirt worker publishes its inventory here; the census and memory
  // collectors read it.
  std::shared_ptr<GuestInventoryHolder> guests;
  // Filled by the cpu and census factories for the status page.
  std::shared_ptr<StatusFeeds> feeds = std::make_shared<StatusFeeds>();
  // Set by the sched factory, read by the cpu collector (built before it).
  std::shared_ptr<VcpuHeldFeed> vcpu_held = std::make_shared<VcpuHeldFeed>();
};

// One row of the collector table: the only place a collector is named. The
// --collector.NAME flags, --help, the status page and the exposition's
// collector label all derive from it (node_exporter's registerCollector).
struct CollectorSpec {
  std::string_view name;
  bool enabled_by_default;
  std::string_view help;
  std::function<std::unique_ptr<Collector>(const CollectorDeps&)> make;
};

// Every collector, in exposition order (libvirt before census and memory,
// which read the guest inventory it publishes).
const std::vector<CollectorSpec>& CollectorTable();

// The collectors --collector.NAME enabled, built in table order. Their
// workers are not started (ExporterCollectable::StartCollectors).
std::vector<NamedCollector> MakeCollectors(const CollectorDeps& deps);

}  // namespace hostiso
