#include "metrics/collectors/cgroup_collector.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "metrics/cgroupfs/cgroup_reader.h"
#include "metrics/detectors/cgroup_slices.h"
#include "metrics/family_builder.h"

namespace hostiso {

namespace detail {

double SliceCounters::Observe(const std::string& slice, double raw) {
  Entry& e = entries_[slice];
  e.last = e.round + 1 == round_ ? std::max(e.last, raw) : raw;
  e.round = round_;
  return e.last;
}

}  // namespace detail

namespace {

struct Watched {
  std::string slice;
  bool machine = false;
};

// The errors of several slices, as one line.
void AddError(std::optional<Error>& all, const Error& e) {
  all = all ? Error(all->message() + "; " + e.message()) : e;
}

}  // namespace

CgroupCollector::CgroupCollector(CgroupCollectorOptions options)
    : options_(std::move(options)) {}

Expected<void> CgroupCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  auto hierarchy = DetectCgroupHierarchy(options_.root);
  if (!hierarchy) return hierarchy.failure();
  std::vector<Watched> watched;
  if (auto machine = FindMachineSlice(*hierarchy))
    watched.push_back({std::move(*machine), true});
  for (const std::string& s : options_.host_slices) {
    // Named twice (or the machine slice named as a host slice): one series.
    const bool dup =
        std::any_of(watched.begin(), watched.end(),
                    [&](const Watched& w) { return w.slice == s; });
    if (!dup) watched.push_back({s});
  }

  auto cpuset_info = FamilyBuilder::Gauge(
      "hostiso_cgroup_cpuset_info",
      "Effective cpuset of each watched cgroup slice (cpuset.cpus.effective, "
      "v1 cpuset.effective_cpus; inherited from the nearest ancestor with "
      "one).");
  auto seconds = FamilyBuilder::Counter(
      "hostiso_cgroup_cpu_seconds_total",
      "CPU time of each watched cgroup slice and its descendants (cpu.stat "
      "usage_usec, v1 cpuacct.usage).");
  std::vector<SliceCpuset> host_cpusets;
  std::optional<SliceCpuset> machine_cpuset;
  std::optional<Error> error;
  bool host_failed = false;
  bool machine_failed = false;
  counters_.BeginRound();
  CpusetCache cpusets;  // one read per cpuset file in this scrape
  for (const Watched& w : watched) {
    auto reading =
        ReadSlice(*hierarchy, w.slice, ctx.isolation.topology.online, &cpusets);
    if (!reading) {
      AddError(error, reading.failure());
      (w.machine ? machine_failed : host_failed) = true;
      continue;
    }
    if (!*reading) continue;  // no such slice on this host
    const SliceReading& r = **reading;
    cpuset_info.Add({{"slice", w.slice}, {"cpus", r.cpuset.ToString()}}, 1);
    if (r.cpu_seconds)
      seconds.Add({{"slice", w.slice}},
                  counters_.Observe(w.slice, *r.cpu_seconds));
    if (w.machine) {
      machine_cpuset = SliceCpuset{w.slice, r.cpuset};
    } else {
      host_cpusets.push_back({w.slice, r.cpuset});
    }
  }
  std::move(cpuset_info).AppendTo(out);
  std::move(seconds).AppendTo(out);

  const CpuRoles& roles = ctx.isolation.roles;
  if (!host_failed)
    ctx.violations.Report(ViolationKind::kHostSliceOnGuestCpu,
                          DetectHostSliceOnGuestCpu(roles, host_cpusets));
  if (!machine_failed)
    ctx.violations.Report(
        ViolationKind::kMachineSliceOnHostCpu,
        machine_cpuset ? DetectMachineSliceOnHostCpu(roles, *machine_cpuset)
                       : std::vector<Violation>{});
  if (error) return *error;
  return Ok();
}

}  // namespace hostiso
