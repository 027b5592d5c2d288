#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/cpu_accounting.h"
#include "metrics/cpu_shares.h"
#include "metrics/guest_inventory.h"
#include "metrics/latest.h"
#include "metrics/procfs/host_paths.h"

namespace hostiso {

namespace detail {
// Keeps per-CPU counters from stepping backwards in the exposition. A CPU
// that was missing at the previous observation (offline, hotplugged) starts
// afresh: that is a counter reset Prometheus understands.
template <std::size_t N>
class PerCpuMonotonic {
 public:
  // Call once per observation before Observe().
  void BeginRound() { ++round_; }
  std::array<double, N> Observe(int cpu, const std::array<double, N>& raw) {
    if (static_cast<std::size_t>(cpu) >= state_.size())
      state_.resize(static_cast<std::size_t>(cpu) + 1);
    Entry& e = state_[static_cast<std::size_t>(cpu)];
    if (e.round + 1 != round_) {
      e.last = raw;  // new or back from offline
    } else {
      for (std::size_t i = 0; i < N; ++i)
        e.last[i] = std::max(e.last[i], raw[i]);
    }
    e.round = round_;
    return e.last;
  }

 private:
  struct Entry {
    std::uint64_t round = 0;
    std::array<double, N> last{};
  };
  std::uint64_t round_ = 0;
  std::vector<Entry> state_;
};
}  // namespace detail

// hostiso_cpu_seconds_total{cpu,consumer} from /proc/stat, its host/guest
// split taken from the sched collector's vCPU time while it runs, else from
// the pinned vCPU threads' run time where /proc/stat's guest column misses it
// (hostiso_cpu_accounting_source{cpu,source} says which), and
// hostiso_cpu_runqueue_wait_seconds_total{cpu} from /proc/schedstat (absent
// on kernels without CONFIG_SCHEDSTATS: the series are then omitted, not
// failed). With `shares`, each scrape after the first also publishes the
// per-CPU shares since the previous one (the status page's view of
// /proc/stat, split as published).
class CpuCollector : public Collector {
 public:
  // `guests` (may be null: /proc/stat alone) names the vCPU threads whose
  // schedstat the scrape's GuestSampler reads.
  // `sched` (may be null or unset): the sched collector's per-CPU vCPU
  // time; while it reads, every CPU it measures is split by it (source
  // "sched").
  explicit CpuCollector(
      const HostPaths& paths,
      std::shared_ptr<Latest<CpuShares>> shares = nullptr,
      std::shared_ptr<const GuestInventoryHolder> guests = nullptr,
      std::shared_ptr<const VcpuHeldFeed> sched = nullptr);
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;

 private:
  Expected<void> CollectSeconds(const ScrapeContext& ctx,
                                std::vector<prometheus::MetricFamily>& out);
  // Run time of the pinned vCPU threads per CPU since the previous scrape.
  std::vector<std::uint64_t> VcpuRunPerCpu(const ScrapeContext& ctx);
  // Time vCPU threads held each CPU since the previous scrape, from the
  // sched collector; empty when it is off or its read failed.
  std::vector<std::optional<std::uint64_t>> SchedVcpuPerCpu();
  Expected<void> CollectRunqueueWait(
      FamilyPool* pool, std::vector<prometheus::MetricFamily>& out);

  std::string stat_path_;
  std::string schedstat_path_;
  void PublishShares(CpuConsumerSeconds now);

  std::shared_ptr<Latest<CpuShares>> shares_;
  CpuConsumerSeconds previous_;
  std::chrono::steady_clock::time_point previous_at_{};
  std::shared_ptr<const GuestInventoryHolder> guests_;
  VcpuRunTracker vcpu_runs_;
  std::shared_ptr<const VcpuHeldFeed> sched_;
  VcpuHeldTracker sched_vcpu_;
  std::vector<CpuAccount> accounts_;  // indexed by CPU number
  detail::PerCpuMonotonic<1> runqueue_;
};

}  // namespace hostiso
