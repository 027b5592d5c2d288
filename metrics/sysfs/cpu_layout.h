#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"

namespace hostiso {

// Where one online CPU sits: its package (socket), its physical core, its
// NUMA node, and the hardware threads that share its core.
struct CpuPlace {
  int cpu = -1;
  int package = -1;     // topology/physical_package_id
  int core = -1;        // topology/core_id (unique within a package only)
  int numa_node = -1;   // the nodeN whose cpulist holds the CPU
  CpuSet smt_siblings;  // topology/thread_siblings_list, the CPU included
};

// The host's CPU layout, for the online CPUs (the kernel removes an offline
// CPU's topology directory).
struct CpuLayout {
  std::vector<CpuPlace> cpus;   // by CPU number
  std::map<int, CpuSet> nodes;  // NUMA node -> its online CPUs
  // False when the kernel has no /sys/devices/system/node (CONFIG_NUMA off):
  // every CPU is then on node 0, the one memory node such a kernel has.
  bool numa_from_sysfs = true;

  const CpuPlace* Find(int cpu) const;
  // The CPUs sharing `cpu`'s physical core, `cpu` excluded (empty without
  // SMT, or for a CPU not in the layout).
  CpuSet SiblingsOf(int cpu) const;
  // The NUMA nodes of `cpus` (CPUs not in the layout are ignored).
  std::vector<int> NodesOf(const CpuSet& cpus) const;
};

// One parser per sysfs file shape: a decimal id such as physical_package_id
// or core_id ("0\n"). Negative ids are accepted (-1: firmware did not say).
Expected<int> ParseSysfsId(std::string_view text);

// "node0" -> 0; nullopt for any other directory entry.
std::optional<int> ParseNodeDirName(std::string_view name);

// Reads, for each CPU of `online`:
//   <sysfs>/devices/system/cpu/cpuN/topology/{physical_package_id,core_id,
//   thread_siblings_list}
// and, for each node of <sysfs>/devices/system/node/online (or every nodeN
// directory when that file is absent), nodeN/cpulist. A CPU whose topology
// file is missing or unparsable is an error naming the file: a wrong layout
// would place guests on the wrong core in every check built on it.
Expected<CpuLayout> ReadCpuLayout(const std::string& sysfs_root,
                                  const CpuSet& online);

}  // namespace hostiso
