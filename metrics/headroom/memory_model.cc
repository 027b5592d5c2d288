#include "metrics/headroom/memory_model.h"

#include <algorithm>

namespace hostiso {

MemoryBreakdown ComputeHostMemory(const MemoryInputs& in) {
  MemoryBreakdown b;
  b.total = in.meminfo.mem_total;
  b.available =
      std::min(in.meminfo.mem_available.value_or(0), in.meminfo.mem_total);
  for (const HugePagePool& p : in.pools) {
    b.hugepage_pool_bytes += p.TotalBytes();
    b.hugepage_committed_bytes += p.CommittedBytes();
  }
  // Sysfs and meminfo normally agree; when the kernel's Hugetlb total is
  // larger (pools sysfs could not show), trust it for the pool size.
  if (in.meminfo.hugetlb_bytes &&
      *in.meminfo.hugetlb_bytes > b.hugepage_pool_bytes) {
    b.hugepage_pool_bytes = *in.meminfo.hugetlb_bytes;
  }
  for (const GuestMemoryUse& g : in.guests) {
    if (g.hugepages_backed) b.guest_hugepage_bytes += g.memory_bytes;
    if (g.private_resident_bytes)
      b.guest_private_resident_bytes += *g.private_resident_bytes;
  }
  if (b.hugepage_committed_bytes > b.guest_hugepage_bytes) {
    b.host_hugepage_used_bytes =
        b.hugepage_committed_bytes - b.guest_hugepage_bytes;
  }
  // Signed arithmetic: memory sizes are far below 2^62.
  const std::int64_t used =
      static_cast<std::int64_t>(b.total) -
      static_cast<std::int64_t>(b.available) -
      static_cast<std::int64_t>(b.hugepage_pool_bytes) -
      static_cast<std::int64_t>(b.guest_private_resident_bytes) +
      static_cast<std::int64_t>(b.host_hugepage_used_bytes);
  b.host_used_bytes = used > 0 ? static_cast<std::uint64_t>(used) : 0;
  return b;
}

}  // namespace hostiso
