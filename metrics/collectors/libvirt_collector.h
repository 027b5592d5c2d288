#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/libvirt/libvirt_source.h"

namespace hostiso {

namespace detail {
// Keeps one vCPU's counters from stepping backwards. A new thread id (the
// domain restarted) or a switch between the thread's schedstat and libvirt's
// bulk stats restarts the counters: a reset Prometheus understands.
class VcpuCounters {
 public:
  struct Result {
    double time_seconds = 0;
    double delay_seconds = 0;
    std::uint64_t delay_delta_ns = 0;  // since the previous observation
  };
  // `source_id`: the thread id, or 0 for bulk stats.
  Result Observe(pid_t source_id, std::uint64_t time_ns,
                 std::uint64_t delay_ns);

 private:
  bool seen_ = false;
  pid_t source_ = 0;
  std::uint64_t raw_time_ = 0, raw_delay_ = 0;
  double time_ = 0, delay_ = 0;
};
}  // namespace detail

// Everything from libvirt (collector "libvirt"): the domains of the worker's
// last good snapshot, vCPU counters read fresh at every scrape through the
// scrape's GuestSample (libvirt bulk stats when the thread is unknown), vCPU
// capacity, and the vcpu_on_host_cpu, emulator_on_host_cpu,
// dedicated_cpu_shared and cpu_overcommit detectors. Never calls libvirt.
class LibvirtCollector : public Collector {
 public:
  using StatusFn = std::function<LibvirtStatus()>;
  // Owns the worker: starts and stops it with the collector.
  LibvirtCollector(std::shared_ptr<LibvirtSource> source,
                   double refresh_seconds);
  // Tests and benchmarks: any status provider.
  LibvirtCollector(StatusFn status, double refresh_seconds);

  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;
  void Start() override;
  bool Stop(std::chrono::milliseconds grace) override;

 private:
  // Per vCPU: counters kept monotonic, and the CPUs their delay accrued on.
  void AppendVcpuSeries(const LibvirtStatus& st, const GuestSample& sample,
                        FamilyPool* pool,
                        std::vector<prometheus::MetricFamily>& out);
  // Lays the vCPU counters out parallel to `inventory` (domains, then vCPUs),
  // carrying each (domain name, vCPU index) over from the previous layout:
  // a scrape then finds a vCPU's counters by position, not by a string key.
  // Runs only when the libvirt worker publishes a new inventory.
  void BindVcpuCounters(std::shared_ptr<const GuestInventory> inventory);
  void AppendCpuDelay(const CpuRoles& roles, FamilyPool* pool,
                      std::vector<prometheus::MetricFamily>& out);

  std::shared_ptr<LibvirtSource> source_;  // may be null (tests)
  StatusFn status_;
  double refresh_seconds_;
  // The inventory vcpu_counters_ is parallel to, and per domain per vCPU the
  // counters of the last scrape (default-constructed: not observed then, so
  // it starts afresh).
  std::shared_ptr<const GuestInventory> counters_inventory_;
  std::vector<std::vector<detail::VcpuCounters>> vcpu_counters_;
  std::map<int, double> cpu_delay_seconds_;
};

}  // namespace hostiso
