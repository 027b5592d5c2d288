#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"
#include "metrics/procfs/kept_files.h"
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

// The files of one node read at every scrape, listed once: its meminfo and
// the counters of its huge page pools (the sizes are fixed at boot).
struct NumaNodeFiles {
  struct Pool {
    std::uint64_t page_size_bytes = 0;
    std::string nr_hugepages;    // .../hugepages-NkB/nr_hugepages
    std::string free_hugepages;  // .../hugepages-NkB/free_hugepages
  };
  int node = 0;
  std::string meminfo;      // <sysfs>/devices/system/node/nodeN/meminfo
  std::vector<Pool> pools;  // sorted by page size
};

// Lists nodeN/hugepages/hugepages-*kB (a directory listing). A node without a
// hugepages directory (no hugetlbfs) has no pools; an unlistable one is an
// error naming it.
Expected<NumaNodeFiles> ListNumaNodeFiles(const std::string& sysfs_root,
                                          int node);

// Reads the listed files (no listing, no allocation but the result's pool
// vector): meminfo and each pool's nr_hugepages and free_hugepages, through
// `kept` when given (the topology collector keeps them open). Any unreadable,
// non-regular, over-long or malformed file is an error naming it.
Expected<NumaNodeMemory> ReadNumaNodeMemory(const NumaNodeFiles& files,
                                            KeptKernfsFiles* kept = nullptr);

// ListNumaNodeFiles + ReadNumaNodeMemory.
Expected<NumaNodeMemory> ReadNumaNodeMemory(const std::string& sysfs_root,
                                            int node);

}  // namespace hostiso
