#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/cgroupfs/cgroup_reader.h"
#include "metrics/collector.h"

namespace hostiso {

namespace detail {
// Keeps each slice's CPU-time counter from stepping backwards. A slice that
// was absent at the previous scrape (removed and created again) starts
// afresh: a counter reset Prometheus understands.
class SliceCounters {
 public:
  // Call once per scrape before Observe().
  void BeginRound() { ++round_; }
  double Observe(const std::string& slice, double raw);

 private:
  struct Entry {
    std::uint64_t round = 0;
    double last = 0;
  };
  std::uint64_t round_ = 0;
  std::map<std::string, Entry> entries_;
};
}  // namespace detail

struct CgroupCollectorOptions {
  // The cgroup root: --path.cgroupfs, by default <sysfs>/fs/cgroup.
  std::string root;
  // system.slice, user.slice, init.scope and --cgroup.host-slice (relative
  // paths, checked by the flag parser).
  std::vector<std::string> host_slices;
  // Whether the slices' files stay open across scrapes (KeptKernfsFiles).
  KeepFiles keep_files = KeepFiles::kOnKernelFs;
};

// Collector "cgroup": hostiso_cgroup_cpuset_info{slice,cpus} and
// hostiso_cgroup_cpu_seconds_total{slice} for libvirt's machine slice and the
// host slices, and the host_slice_on_guest_cpu and machine_slice_on_host_cpu
// detectors. cgroup v2 or v1 (cgroupfs/cgroup_reader.h), detected once and
// again after a failed scrape or one that found no slice at all; at every
// scrape two or three small files per slice, read without stat-ing first and
// kept open across scrapes (KeptKernfsFiles). A slice that does not exist is
// left out; an unreadable or malformed file fails the collector and leaves
// out that slice's series, and the detectors of its kind keep their last
// subjects (up to the kind's max age) rather than report on part of the
// slices.
class CgroupCollector : public Collector {
 public:
  explicit CgroupCollector(CgroupCollectorOptions options);
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;
  // How many times the hierarchy was detected (tests).
  std::uint64_t Detections() const { return detections_; }

 private:
  struct Round;
  Expected<const CgroupHierarchy*> Hierarchy();
  void ReadWatched(const CgroupHierarchy& h, const CpuSet& online,
                   Round& round);

  CgroupCollectorOptions options_;
  detail::SliceCounters counters_;
  std::optional<CgroupHierarchy> hierarchy_;
  // libvirt's machine slice as found at the last scrape ("machine.slice" or
  // "machine"); empty when there was none.
  std::string machine_slice_;
  KeptKernfsFiles kept_;
  std::uint64_t detections_ = 0;
};

}  // namespace hostiso
