#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "metrics/sysfs/hugepages.h"

namespace hostiso {

// What one running guest contributes to the memory accounting.
struct GuestMemoryUse {
  std::uint64_t memory_bytes = 0;  // libvirt's current allocation
  bool hugepages_backed = false;
  // Private resident memory of its QEMU process: statm (resident - shared) x
  // page size. nullopt when the process is unknown or gone.
  std::optional<std::uint64_t> private_resident_bytes;
};

struct MemoryInputs {
  Meminfo meminfo;
  std::vector<HugePagePool>
      pools;  // per-size pools (sysfs), or the meminfo fallback
  std::vector<GuestMemoryUse> guests;
};

// The terms of the host-used formula, each exposed so an operator can check
// the arithmetic. All in bytes.
struct MemoryBreakdown {
  std::uint64_t total = 0;                // MemTotal
  std::uint64_t available = 0;            // MemAvailable
  std::uint64_t hugepage_pool_bytes = 0;  // every huge page, free or not
  std::uint64_t hugepage_committed_bytes =
      0;  // in use or promised to a mapping
  std::uint64_t guest_hugepage_bytes =
      0;  // allocations of hugepage-backed guests
  std::uint64_t host_hugepage_used_bytes =
      0;  // committed huge pages no guest explains
  std::uint64_t guest_private_resident_bytes =
      0;  // sum over guests' QEMU processes
  std::uint64_t host_used_bytes = 0;
};

// Memory used by everything but guests:
//
//   host_used = max(0, (MemTotal - MemAvailable)
//                      - hugepage_pool
//                      - sum(private resident of every guest's QEMU)
//                      + host_hugepage_used)
//   host_hugepage_used = max(0, hugepage_committed - sum(memory of
//   hugepage-backed guests))
//
// Why each term:
// - MemTotal - MemAvailable is everything the kernel cannot hand out without
//   swapping. It contains the whole huge page pool: pool pages leave the buddy
//   allocator when the pool is sized, so neither free nor used huge pages are
//   ever in MemAvailable. Subtracting the pool removes them all; the ones the
//   host really uses come back through host_hugepage_used.
// - A guest's memory is its QEMU process. statm's resident counts anonymous,
//   file and shmem pages but never hugetlb pages, so for a hugepage-backed
//   guest it is QEMU's own overhead and for a normal guest it is the touched
//   guest RAM plus that overhead: subtracting it for every guest treats the
//   overhead the same way with and without huge pages (otherwise turning on
//   huge pages would move every guest's overhead into "host used"). statm's
//   shared field (file + shmem pages) is subtracted from resident first: file
//   pages such as the QEMU binary and libraries are shared by every QEMU and
//   sit in the page cache, which MemAvailable already counts as available;
//   subtracting them once per guest would under-count the host by tens of MiB
//   per guest.
// - Huge pages in use (or reserved by a mapping, HugePages_Rsvd) beyond what
//   hugepage-backed guests were given belong to host processes (OVS-DPDK, the
//   reserved_huge_pages of nova.conf): that is host memory. Nova's placement
//   counts MEMORY_MB over all of MemTotal, so they come out of the same
//   reservation.
// The floor at 0 absorbs the estimate's noise (an inventory a few seconds
// older than /proc/meminfo).
MemoryBreakdown ComputeHostMemory(const MemoryInputs& in);

}  // namespace hostiso
