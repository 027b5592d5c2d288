#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"
#include "metrics/sysfs/hugepages.h"

namespace hostiso {

// The two fields of one NUMA node's meminfo the exporter publishes, in bytes.
struct NodeMeminfo {
  std::uint64_t total_bytes = 0;  // "Node N MemTotal:"
  std::uint64_t free_bytes = 0;   // "Node N MemFree:"
};

// Parses <sysfs>/devices/system/node/nodeN/meminfo (drivers/base/node.c,
// node_read_meminfo): lines "Node 0 MemTotal:       16326012 kB". Every line
// must name node `node` (a file of another node is an error, not its
// figures); MemTotal and MemFree are required, MemFree may not exceed
// MemTotal; other keys are ignored.
Expected<NodeMeminfo> ParseNodeMeminfo(std::string_view text, int node);

// One NUMA node's memory: meminfo and its huge page pools (nr and free per
// size; per-node pools have no resv_hugepages).
struct NumaNodeMemory {
  int node = 0;
  NodeMeminfo meminfo;
  std::vector<HugePagePool> hugepages;  // sorted by page size
};

// Reads <sysfs>/devices/system/node/nodeN/meminfo and
// nodeN/hugepages/hugepages-*kB/{nr,free}_hugepages. A node without a
// hugepages directory (no hugetlbfs) has no pools; any unreadable or
// malformed file is an error naming it.
Expected<NumaNodeMemory> ReadNumaNodeMemory(const std::string& sysfs_root,
                                            int node);

}  // namespace hostiso
