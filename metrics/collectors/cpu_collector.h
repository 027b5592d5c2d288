#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/cpu_shares.h"
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

// hostiso_cpu_seconds_total{cpu,consumer} from /proc/stat and
// hostiso_cpu_runqueue_wait_seconds_total{cpu} from /proc/schedstat (absent on
// kernels without CONFIG_SCHEDSTATS: the series are then omitted, not failed).
// With `shares`, each scrape after the first also publishes the per-CPU
// shares since the previous one (the status page's view of /proc/stat).
class CpuCollector : public Collector {
 public:
  explicit CpuCollector(const HostPaths& paths,
                        std::shared_ptr<Latest<CpuShares>> shares = nullptr);
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;

 private:
  Expected<void> CollectSeconds(const IsolationSnapshot& isolation,
                                std::vector<prometheus::MetricFamily>& out);
  Expected<void> CollectRunqueueWait(
      std::vector<prometheus::MetricFamily>& out);

  std::string stat_path_;
  std::string schedstat_path_;
  void PublishShares(CpuConsumerSeconds now);

  std::shared_ptr<Latest<CpuShares>> shares_;
  CpuConsumerSeconds previous_;
  std::chrono::steady_clock::time_point previous_at_{};
  detail::PerCpuMonotonic<4> consumers_;
  detail::PerCpuMonotonic<1> runqueue_;
};

}  // namespace hostiso
