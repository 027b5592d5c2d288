#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"
#include "metrics/procfs/kept_files.h"
#include "metrics/procfs/meminfo.h"

namespace hostiso {

// One huge page pool, per page size, in pages.
struct HugePagePool {
  std::uint64_t page_size_bytes = 0;
  std::uint64_t total =
      0;  // nr_hugepages: every page of the pool (with surplus)
  std::uint64_t free = 0;  // free_hugepages: not faulted in by anyone
  std::uint64_t reserved =
      0;  // resv_hugepages: promised to a mapping, not faulted yet

  std::uint64_t TotalBytes() const { return total * page_size_bytes; }
  std::uint64_t FreeBytes() const { return free * page_size_bytes; }
  // Pages in use or promised: total - free + reserved, never above total.
  std::uint64_t CommittedBytes() const;
};

// "hugepages-2048kB" -> 2097152; nullopt for any other name.
std::optional<std::uint64_t> ParseHugePageDirName(std::string_view name);

// One hugepages-*kB pool directory: its page size and its name.
struct HugePageDir {
  std::uint64_t page_size_bytes = 0;
  std::string name;  // "hugepages-2048kB"
};

// The hugepages-*kB pools in `dir` (kernel/mm/hugepages or a node's
// hugepages directory), sorted by page size. Fixed at boot (one pool per size
// the kernel supports): list them once, then read their counters at every
// scrape. An absent directory (no hugetlbfs) gives an empty list.
Expected<std::vector<HugePageDir>> ListHugePageDirs(const std::string& dir);

// One counter file of a pool (nr_hugepages, free_hugepages, resv_hugepages):
// one decimal count, read without allocating (through `kept` when given).
// Errors name the file (code() is the errno when it could not be read: ENOENT
// when absent).
Expected<std::uint64_t> ReadHugePageCounter(const std::string& path,
                                            KeptKernfsFiles* kept = nullptr);

// Reads <sysfs>/kernel/mm/hugepages/hugepages-*kB/{nr,free,resv}_hugepages,
// sorted by page size. An absent directory (no hugetlbfs) gives an empty list;
// an unreadable counter is an error naming the file.
Expected<std::vector<HugePagePool>> ReadHugePagePools(const std::string& sysfs);

// The same for any directory of hugepages-*kB pools: the host's
// (kernel/mm/hugepages) or one NUMA node's
// (devices/system/node/nodeN/hugepages, which has nr_hugepages,
// free_hugepages and surplus_hugepages but no resv_hugepages: `reserved` is
// then 0).
Expected<std::vector<HugePagePool>> ReadHugePagePoolsIn(const std::string& dir);

// The default-size pool as /proc/meminfo describes it: the fallback when
// sysfs has no per-size pools. Empty when the kernel has no huge pages.
std::vector<HugePagePool> PoolsFromMeminfo(const Meminfo& meminfo);

}  // namespace hostiso
