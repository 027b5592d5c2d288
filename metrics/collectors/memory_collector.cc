#include "metrics/collectors/memory_collector.h"

#include "metrics/detectors/guest_detectors.h"
#include "metrics/detectors/memory_reserve.h"
#include "metrics/family_builder.h"
#include "metrics/headroom/memory_model.h"
#include "metrics/procfs/meminfo.h"
#include "metrics/procfs/read_file.h"
#include "metrics/sysfs/hugepages.h"

namespace hostiso {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

void AppendPools(const std::vector<HugePagePool>& pools,
                 std::vector<prometheus::MetricFamily>& out) {
  auto pool =
      FamilyBuilder::Gauge("hostiso_memory_hugepages_pool_bytes",
                           "Huge page pool size per page size (nr_hugepages).");
  auto free =
      FamilyBuilder::Gauge("hostiso_memory_hugepages_free_bytes",
                           "Free huge pages per page size (free_hugepages).");
  for (const HugePagePool& p : pools) {
    const std::string size = std::to_string(p.page_size_bytes);
    pool.Add({{"page_size", size}}, static_cast<double>(p.TotalBytes()));
    free.Add({{"page_size", size}}, static_cast<double>(p.FreeBytes()));
  }
  std::move(pool).AppendTo(out);
  std::move(free).AppendTo(out);
}

// The terms of the host-used formula (memory_model.h).
void AppendHostUsed(const MemoryBreakdown& b,
                    std::vector<prometheus::MetricFamily>& out) {
  FamilyBuilder::AppendGauge(out, "hostiso_memory_available_bytes",
                             "MemAvailable from /proc/meminfo.",
                             static_cast<double>(b.available));
  FamilyBuilder::AppendGauge(
      out, "hostiso_memory_host_used_bytes",
      "Memory used by everything but guests: (MemTotal - "
      "MemAvailable) - huge page pool - guests' QEMU private resident "
      "memory + huge pages used by the host.",
      static_cast<double>(b.host_used_bytes));
  FamilyBuilder::AppendGauge(
      out, "hostiso_memory_guest_private_resident_bytes",
      "Sum over running guests of their QEMU process's statm "
      "(resident - shared) pages, as subtracted in "
      "hostiso_memory_host_used_bytes.",
      static_cast<double>(b.guest_private_resident_bytes));
  FamilyBuilder::AppendGauge(
      out, "hostiso_memory_hugepages_host_used_bytes",
      "Huge pages in use or reserved beyond the memory of "
      "hugepage-backed guests: host memory.",
      static_cast<double>(b.host_hugepage_used_bytes));
}

std::vector<GuestMemoryUse> GuestUses(const GuestSample& sample) {
  std::vector<GuestMemoryUse> uses;
  const auto& domains = sample.inventory->domains;
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const DomainSample& s = sample.domains[i];
    // A guest that stopped since the inventory was taken contributes nothing.
    if (!s.running) continue;
    GuestMemoryUse g;
    g.memory_bytes = domains[i].memory_bytes;
    g.hugepages_backed = domains[i].hugepages_backed;
    if (s.statm) {
      const std::uint64_t priv = s.statm->resident > s.statm->shared
                                     ? s.statm->resident - s.statm->shared
                                     : 0;
      g.private_resident_bytes = priv * PageSizeBytes();
    }
    uses.push_back(g);
  }
  return uses;
}

double ReservedHugePagesBytes(const NovaConfig& nova) {
  double bytes = 0;
  for (const ReservedHugePages& r : nova.reserved_huge_pages) {
    bytes +=
        static_cast<double>(r.count) * static_cast<double>(r.size_kib) * 1024.0;
  }
  return bytes;
}

}  // namespace

MemoryCollector::MemoryCollector(
    HostPaths paths, std::shared_ptr<const GuestInventoryHolder> guests)
    : paths_(std::move(paths)), guests_(std::move(guests)) {}

bool MemoryCollector::GuestsKnown() const {
  // Before libvirt's first refresh the holder has an empty "none" inventory:
  // no guests known is not "no guests". Host-used memory would then include
  // every guest's and read as a reserve breach at each start.
  return !guests_ || guests_->Current()->source != "none";
}

Expected<void> MemoryCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  // Without meminfo nothing here means anything.
  HOSTISO_ASSIGN_OR_RETURN(Meminfo meminfo,
                           ReadAndParse(paths_.Proc("meminfo"), ParseMeminfo));
  FamilyBuilder::AppendGauge(out, "hostiso_memory_total_bytes",
                             "MemTotal from /proc/meminfo.",
                             static_cast<double>(meminfo.mem_total));
  const NovaConfig nova = ctx.isolation.nova.value_or(NovaConfig{});
  const GuestSample& sample =
      ctx.guests.Sample(guests_ ? guests_->Current() : nullptr);

  // The host-used figure needs MemAvailable and the huge page pools.
  auto sysfs_pools = ReadHugePagePools(paths_.sysfs);
  std::optional<Error> pools_error;
  std::optional<std::vector<HugePagePool>> pools;
  if (!sysfs_pools) {
    pools_error = sysfs_pools.failure();
  } else {
    pools = sysfs_pools->empty() ? PoolsFromMeminfo(meminfo)
                                 : std::move(sysfs_pools).value();
  }
  std::optional<MemoryBreakdown> breakdown;
  if (pools && meminfo.mem_available && GuestsKnown()) {
    breakdown = ComputeHostMemory({meminfo, *pools, GuestUses(sample)});
    AppendHostUsed(*breakdown, out);
  } else if (!meminfo.mem_available && !warned_no_available_) {
    warned_no_available_ = true;
    log::Warn(
        "meminfo has no MemAvailable (kernel older than 3.14): host-used "
        "memory and its headroom are not computed",
        {{"path", paths_.Proc("meminfo")}});
  }
  if (pools) AppendPools(*pools, out);
  AppendReservation(ctx, breakdown, out);
  AppendGuestMemory(ctx, meminfo, sample, out);
  if (pools_error) return *pools_error;
  return Ok();
}

void MemoryCollector::AppendReservation(
    const ScrapeContext& ctx, const std::optional<MemoryBreakdown>& breakdown,
    std::vector<prometheus::MetricFamily>& out) const {
  if (!ctx.isolation.nova) {
    ctx.violations.Report(ViolationKind::kMemoryReserveBreach, {});
    return;
  }
  const NovaConfig& nova = *ctx.isolation.nova;
  const double reserved = static_cast<double>(std::max<std::int64_t>(
                              nova.reserved_host_memory_mb, 0)) *
                          kMiB;
  FamilyBuilder::AppendGauge(out, "hostiso_memory_reserved_bytes",
                             "reserved_host_memory_mb of nova.conf, in bytes.",
                             reserved);
  FamilyBuilder::AppendGauge(
      out, "hostiso_memory_reserved_hugepages_bytes",
      "Sum of nova.conf reserved_huge_pages (count x size) over NUMA "
      "nodes and sizes.",
      ReservedHugePagesBytes(nova));
  // Without the host-used figure the breach cannot be evaluated: nothing is
  // reported, and the registry expires an old breach.
  if (!breakdown) return;
  const double headroom =
      reserved - static_cast<double>(breakdown->host_used_bytes);
  FamilyBuilder::AppendGauge(
      out, "hostiso_memory_reserve_headroom_bytes",
      "reserved_host_memory_mb - host used; negative: the host is "
      "eating guest memory.",
      headroom);
  ctx.violations.Report(ViolationKind::kMemoryReserveBreach,
                        DetectMemoryReserveBreach(headroom));
}

void MemoryCollector::AppendGuestMemory(
    const ScrapeContext& ctx, const Meminfo& meminfo, const GuestSample& sample,
    std::vector<prometheus::MetricFamily>& out) const {
  GuestInventory running;
  for (std::size_t i = 0; i < sample.domains.size(); ++i)
    if (sample.domains[i].running)
      running.domains.push_back(sample.inventory->domains[i]);
  const GuestMemory gmem = ComputeGuestMemory(
      running, meminfo.mem_total, ctx.isolation.nova.value_or(NovaConfig{}));
  FamilyBuilder::AppendGauge(
      out, "hostiso_memory_guest_capacity_bytes",
      "(MemTotal - reserved_host_memory_mb) x ram_allocation_ratio.",
      gmem.capacity_bytes);
  FamilyBuilder::AppendGauge(out, "hostiso_memory_guest_allocated_bytes",
                             "Sum of running domains' memory.",
                             static_cast<double>(gmem.allocated_bytes));
  // Overcommit needs a configured host: nova.conf or --isolation.guest-cpus.
  const bool configured = ctx.isolation.nova.has_value() ||
                          ctx.isolation.roles.IsolationConfigured();
  ctx.violations.Report(
      ViolationKind::kRamOvercommit,
      configured ? DetectRamOvercommit(gmem) : std::vector<Violation>{});
}

}  // namespace hostiso
