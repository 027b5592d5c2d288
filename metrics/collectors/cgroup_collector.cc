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

// The errors of several slices, as one line.
void AddError(std::optional<Error>& all, const Error& e) {
  all = all ? Error(all->message() + "; " + e.message()) : e;
}

}  // namespace

// What one scrape read, for the families and the detectors.
struct CgroupCollector::Round {
  FamilyBuilder cpuset_info = FamilyBuilder::Gauge(
      "hostiso_cgroup_cpuset_info",
      "Effective cpuset of each watched cgroup slice (cpuset.cpus.effective, "
      "v1 cpuset.effective_cpus; inherited from the nearest ancestor with "
      "one).");
  FamilyBuilder seconds = FamilyBuilder::Counter(
      "hostiso_cgroup_cpu_seconds_total",
      "CPU time of each watched cgroup slice and its descendants (cpu.stat "
      "usage_usec, v1 cpuacct.usage).");
  std::vector<SliceCpuset> host_cpusets;
  std::optional<SliceCpuset> machine_cpuset;
  std::optional<Error> error;
  bool host_failed = false;
  bool machine_failed = false;
  std::size_t found = 0;  // slices that exist
  CpusetCache cpusets;    // one read per cpuset file in this scrape
};

CgroupCollector::CgroupCollector(CgroupCollectorOptions options)
    : options_(std::move(options)), kept_(options_.keep_files) {}

Expected<const CgroupHierarchy*> CgroupCollector::Hierarchy() {
  if (!hierarchy_) {
    ++detections_;
    auto detected = DetectCgroupHierarchy(options_.root);
    if (!detected) return detected.failure();
    hierarchy_ = std::move(detected).value();
  }
  return &*hierarchy_;
}

void CgroupCollector::ReadWatched(const CgroupHierarchy& h,
                                  const CpuSet& online, Round& round) {
  // Reads one slice; false when it does not exist (or failed).
  auto read = [&](const std::string& slice, bool machine) {
    auto reading = ReadSlice(h, slice, online, &round.cpusets, &kept_);
    if (!reading) {
      AddError(round.error, reading.failure());
      (machine ? round.machine_failed : round.host_failed) = true;
      return false;
    }
    if (!*reading) return false;  // no such slice on this host
    const SliceReading& r = **reading;
    ++round.found;
    round.cpuset_info.Add({{"slice", slice}, {"cpus", r.cpuset.ToString()}}, 1);
    if (r.cpu_seconds)
      round.seconds.Add({{"slice", slice}},
                        counters_.Observe(slice, *r.cpu_seconds));
    if (machine) {
      round.machine_cpuset = SliceCpuset{slice, r.cpuset};
    } else {
      round.host_cpusets.push_back({slice, r.cpuset});
    }
    return true;
  };
  // The machine slice found at the last scrape is read straight away (no
  // stat); else it is looked for, as libvirt creates it with its first guest.
  std::string machine;
  if (!machine_slice_.empty() && read(machine_slice_, true)) {
    machine = machine_slice_;
  } else if (!round.machine_failed) {
    std::optional<std::string> found = FindMachineSlice(h);
    if (found && read(*found, true)) machine = std::move(*found);
  }
  // After a failed read, the same name is tried first next time.
  if (!round.machine_failed) machine_slice_ = machine;
  std::vector<const std::string*> done;
  for (const std::string& s : options_.host_slices) {
    // Named twice (or the machine slice named as a host slice): one series.
    if (s == machine ||
        std::any_of(done.begin(), done.end(),
                    [&](const std::string* d) { return *d == s; }))
      continue;
    done.push_back(&s);
    read(s, false);
  }
}

Expected<void> CgroupCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  const bool cached = hierarchy_.has_value();
  HOSTISO_ASSIGN_OR_RETURN(const CgroupHierarchy* hierarchy, Hierarchy());
  Round round;
  counters_.BeginRound();
  ReadWatched(*hierarchy, ctx.isolation.topology.online, round);
  // Files of slices gone or no longer read are closed.
  kept_.Sweep();
  std::move(round.cpuset_info).AppendTo(out);
  std::move(round.seconds).AppendTo(out);
  // Detect again after a failure (next scrape), and now when no slice
  // exists: a root unmounted since the detection reads as "no slices", and
  // must fail as it did when first detected.
  if (round.error) hierarchy_.reset();
  if (!round.error && round.found == 0 && cached) {
    hierarchy_.reset();
    auto again = Hierarchy();
    if (!again) return again.failure();
  }

  const CpuRoles& roles = ctx.isolation.roles;
  if (!round.host_failed)
    ctx.violations.Report(ViolationKind::kHostSliceOnGuestCpu,
                          DetectHostSliceOnGuestCpu(roles, round.host_cpusets));
  if (!round.machine_failed)
    ctx.violations.Report(
        ViolationKind::kMachineSliceOnHostCpu,
        round.machine_cpuset
            ? DetectMachineSliceOnHostCpu(roles, *round.machine_cpuset)
            : std::vector<Violation>{});
  if (round.error) return *round.error;
  return Ok();
}

}  // namespace hostiso
