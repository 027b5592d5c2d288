#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "metrics/collector.h"
#include "metrics/guest_inventory.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/sysfs/cpu_layout.h"
#include "metrics/sysfs/numa_node.h"

namespace hostiso {

struct TopologyOptions {
  HostPaths paths;
  // The CPU layout is re-read when the online CPU list changes (hotplug, the
  // only event that changes it) and at least this often.
  std::chrono::duration<double> layout_max_age = std::chrono::seconds(60);
  // The libvirt collector is on: its inventory (vCPU pinning, memory nodes)
  // is an input, used while it is at most `guests_max_age` old (the libvirt
  // kinds' stale max age, three refresh intervals).
  bool guests_enabled = true;
  std::chrono::duration<double> guests_max_age = std::chrono::seconds(90);
  // The census collector is on: its host_task_on_guest_cpu subjects (kept by
  // the registry under the census' stale policy) are the intrusion input.
  bool census_enabled = true;
  // Whether the nodes' files stay open across scrapes (KeptKernfsFiles).
  KeepFiles keep_files = KeepFiles::kOnKernelFs;
};

// Collector "topology": where each CPU sits and what each NUMA node holds,
// and the two checks built on the layout.
// - hostiso_cpu_topology_info{cpu,package,core,numa_node} from
//   <sysfs>/devices/system/cpu/cpuN/topology and node/nodeN/cpulist
//   (ReadCpuLayout), cached: re-read only when the online list changes or
//   the cache is older than layout_max_age (3 files x N CPUs otherwise); the
//   family and its text are built once per layout (RenderedFamily);
// - per node, at every scrape: hostiso_numa_memory_{total,free}_bytes
//   (nodeN/meminfo) and hostiso_numa_hugepages_{pool,free}_bytes
//   (nodeN/hugepages/hugepages-*kB/{nr,free}_hugepages). The pools (one per
//   page size, fixed at boot) are listed with the layout, not at every
//   scrape; a node whose files fail to read is listed again next scrape; the
//   files stay open across scrapes (KeptKernfsFiles);
// - where nova.conf's reserved_huge_pages reserves pages on a node:
//   hostiso_numa_hugepages_reserved_bytes{node} and
//   hostiso_numa_hugepages_reserve_headroom_bytes{node} (reserved - huge
//   pages the host uses on the node: in use minus what hugepage-backed guests
//   placed on that node were given);
// - violations smt_sibling_shared (every scrape) and numa_misplacement
//   (while the guest inventory is fresh).
class TopologyCollector : public Collector {
 public:
  TopologyCollector(TopologyOptions options,
                    std::shared_ptr<const GuestInventoryHolder> guests);
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;
  // How many times the layout was read (tests, benchmarks).
  std::uint64_t LayoutReads() const { return layout_reads_; }

 private:
  using Clock = std::chrono::steady_clock;
  Expected<std::shared_ptr<const CpuLayout>> CurrentLayout(
      const CpuSet& online);
  // The inventory when it is an input and fresh enough; else null.
  std::shared_ptr<const GuestInventory> FreshGuests() const;
  // Every node's memory and pools; the first error (if any) in `error`.
  std::vector<NumaNodeMemory> ReadNodes(const CpuLayout& layout,
                                        std::optional<Error>& error);
  // hostiso_cpu_topology_info of `layout`, built when the layout changed.
  const std::shared_ptr<const RenderedFamily>& InfoFamily(
      const std::shared_ptr<const CpuLayout>& layout);
  void Evaluate(const ScrapeContext& ctx,
                const std::shared_ptr<const CpuLayout>& layout,
                const std::shared_ptr<const GuestInventory>& guests);

  // smt_sibling_shared's inputs: the result is recomputed only when one
  // changed (a 256-CPU host checks every dedicated CPU's siblings).
  struct SmtInputs {
    std::shared_ptr<const CpuLayout> layout;
    std::shared_ptr<const GuestInventory> guests;
    bool census = false;
    CpuSet intruded, host, dedicated, shared, guest;
    bool operator==(const SmtInputs&) const = default;
  };

  TopologyOptions options_;
  std::shared_ptr<const GuestInventoryHolder> guests_;
  std::shared_ptr<const CpuLayout> layout_;
  CpuSet layout_online_;
  Clock::time_point layout_read_at_{};
  std::uint64_t layout_reads_ = 0;
  // hostiso_cpu_topology_info and the layout it was built from.
  std::shared_ptr<const CpuLayout> info_layout_;
  std::shared_ptr<const RenderedFamily> info_;
  // The files of each node, listed with `layout_` (ListNumaNodeFiles); a
  // node is absent until listed, and dropped after a failed read.
  std::map<int, NumaNodeFiles> node_files_;
  KeptKernfsFiles node_kept_;
  std::optional<SmtInputs> smt_inputs_;
  std::vector<Violation> smt_result_;
  // numa_misplacement's inputs (both immutable once published) and result.
  std::shared_ptr<const CpuLayout> numa_layout_;
  std::shared_ptr<const GuestInventory> numa_guests_;
  std::vector<Violation> numa_result_;
};

namespace detail {
// Huge page bytes the host itself uses on each node: pages in use (pool -
// free, all sizes) minus the memory of the running hugepage-backed guests
// whose memory is on that node alone, floored at 0. nullopt when a
// hugepage-backed guest's memory node is unknown or several (its pages cannot
// be placed).
std::optional<std::map<int, double>> HostHugePagesByNode(
    const std::vector<NumaNodeMemory>& nodes, const GuestInventory& guests,
    const CpuLayout& layout);
}  // namespace detail

}  // namespace hostiso
