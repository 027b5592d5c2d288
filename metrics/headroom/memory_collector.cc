#include "metrics/headroom/memory_collector.h"

#include <unistd.h>

#include "metrics/family_builder.h"
#include "metrics/file_reader.h"
#include "metrics/headroom/memory_model.h"

namespace hostiso {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
}  // namespace

MemoryCollector::MemoryCollector(
    std::string procfs, std::string sysfs,
    std::shared_ptr<const GuestInventoryHolder> guests)
    : procfs_(std::move(procfs)),
      sysfs_(std::move(sysfs)),
      guests_(std::move(guests)) {
  long ps = ::sysconf(_SC_PAGESIZE);
  page_size_ = ps > 0 ? static_cast<std::uint64_t>(ps) : 4096;
}

bool MemoryCollector::Collect(const ScrapeContext& ctx,
                              std::vector<prometheus::MetricFamily>& out) {
  auto text = ReadFile(JoinPath(procfs_, "meminfo"));
  Expected<Meminfo> meminfo =
      text ? ParseMeminfo(*text) : Expected<Meminfo>::Error(text.error());
  if (!meminfo) {
    // Without meminfo nothing here means anything; the detector keeps its
    // last state rather than flapping.
    meminfo_latch_.Fail(meminfo.error());
    return false;
  }
  meminfo_latch_.Ok();

  bool ok = true;
  MemoryInputs in;
  in.meminfo = *meminfo;
  auto pools = ReadHugePagePools(sysfs_);
  if (pools) {
    hugepages_latch_.Ok();
    in.pools = *pools;
  } else {
    hugepages_latch_.Fail(pools.error());
    ok = false;
  }
  if (in.pools.empty()) in.pools = PoolsFromMeminfo(in.meminfo);

  if (guests_) {
    auto inventory = guests_->Current();
    for (const GuestDomain& d : inventory->domains) {
      GuestMemoryUse g;
      g.memory_bytes = d.memory_bytes;
      g.hugepages_backed = d.hugepages_backed;
      if (d.qemu_pid > 0) {
        // A guest that stopped since the inventory was taken has no statm:
        // normal, it simply contributes nothing.
        auto statm =
            ReadFile(JoinPath(procfs_, std::to_string(d.qemu_pid) + "/statm"));
        if (statm) {
          if (auto s = ParseStatm(*statm)) {
            const std::uint64_t priv =
                s->resident > s->shared ? s->resident - s->shared : 0;
            g.private_resident_bytes = priv * page_size_;
          }
        }
      }
      in.guests.push_back(g);
    }
  }
  const MemoryBreakdown b = ComputeHostMemory(in);

  auto gauge = [&out](const char* name, const char* help, double v) {
    auto f = FamilyBuilder::Gauge(name, help);
    f.Add({}, v);
    std::move(f).AppendTo(out);
  };
  gauge("hostiso_memory_total_bytes", "MemTotal from /proc/meminfo.",
        static_cast<double>(b.total));
  gauge("hostiso_memory_available_bytes", "MemAvailable from /proc/meminfo.",
        static_cast<double>(b.available));
  gauge("hostiso_memory_host_used_bytes",
        "Memory used by everything but guests: (MemTotal - MemAvailable) - "
        "huge page pool - "
        "guests' QEMU private resident memory + huge pages used by the host.",
        static_cast<double>(b.host_used_bytes));
  gauge("hostiso_memory_guest_private_resident_bytes",
        "Sum over running guests of their QEMU process's statm (resident - "
        "shared) pages, as "
        "subtracted in hostiso_memory_host_used_bytes.",
        static_cast<double>(b.guest_private_resident_bytes));
  gauge("hostiso_memory_hugepages_host_used_bytes",
        "Huge pages in use or reserved beyond the memory of hugepage-backed "
        "guests: host memory.",
        static_cast<double>(b.host_hugepage_used_bytes));

  auto hp_total =
      FamilyBuilder::Gauge("hostiso_memory_hugepages_pool_bytes",
                           "Huge page pool size per page size (nr_hugepages).");
  auto hp_free =
      FamilyBuilder::Gauge("hostiso_memory_hugepages_free_bytes",
                           "Free huge pages per page size (free_hugepages).");
  for (const HugePagePool& p : in.pools) {
    const std::string size = std::to_string(p.page_size_bytes);
    hp_total.Add({{"page_size", size}}, static_cast<double>(p.TotalBytes()));
    hp_free.Add({{"page_size", size}}, static_cast<double>(p.FreeBytes()));
  }
  std::move(hp_total).AppendTo(out);
  std::move(hp_free).AppendTo(out);

  std::vector<Violation> breaches;
  if (ctx.isolation.nova) {
    const NovaConfig& nova = *ctx.isolation.nova;
    const double reserved =
        static_cast<double>(nova.reserved_host_memory_mb > 0
                                ? nova.reserved_host_memory_mb
                                : 0) *
        kMiB;
    double reserved_huge = 0;
    for (const ReservedHugePages& r : nova.reserved_huge_pages) {
      reserved_huge += static_cast<double>(r.count) *
                       static_cast<double>(r.size_kib) * 1024.0;
    }
    gauge("hostiso_memory_reserved_bytes",
          "reserved_host_memory_mb of nova.conf, in bytes.", reserved);
    gauge("hostiso_memory_reserved_hugepages_bytes",
          "Sum of nova.conf reserved_huge_pages (count x size) over NUMA nodes "
          "and sizes.",
          reserved_huge);
    const double headroom = reserved - static_cast<double>(b.host_used_bytes);
    gauge("hostiso_memory_reserve_headroom_bytes",
          "reserved_host_memory_mb - host used; negative: the host is eating "
          "guest memory.",
          headroom);
    // A Nova host with reserved_host_memory_mb = 0 lets guests be placed on
    // all of MemTotal, so any host use breaches it: that is reported too.
    if (headroom < 0) breaches.push_back(Violation{"memory", CpuSet{}});
  }
  ctx.violations.Report(ViolationKind::kMemoryReserveBreach,
                        std::move(breaches));
  return ok;
}

}  // namespace hostiso
