#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// The /proc/meminfo fields the memory headroom needs, in bytes (the kernel
// writes "kB", meaning KiB) or pages (the HugePages_* counters).
struct Meminfo {
  std::uint64_t mem_total = 0;
  // Kernels before 3.14 have no MemAvailable: the figures built on it
  // (host used, headroom) are then left out, the rest is still served.
  std::optional<std::uint64_t> mem_available;
  // Default huge page size pool (HugePages_* count pages of Hugepagesize).
  std::uint64_t hugepages_total = 0;
  std::uint64_t hugepages_free = 0;
  std::uint64_t hugepages_rsvd = 0;
  std::uint64_t hugepagesize_bytes = 0;
  // Hugetlb (kernel >= 4.16): every huge page pool, all sizes, in bytes.
  std::optional<std::uint64_t> hugetlb_bytes;
};

// Parses <procfs>/meminfo. MemTotal is required (and not 0); MemAvailable
// (kernel >= 3.14) is optional but must not exceed MemTotal; the huge page
// fields default to 0 (kernels without hugetlbfs).
Expected<Meminfo> ParseMeminfo(std::string_view text);

}  // namespace hostiso
