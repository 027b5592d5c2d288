#include "exporter/collector_table.h"

#include <algorithm>
#include <chrono>

#include "metrics/census/census_worker.h"
#include "metrics/collectors/census_collector.h"
#include "metrics/collectors/cgroup_collector.h"
#include "metrics/collectors/cpu_collector.h"
#include "metrics/collectors/disk_collector.h"
#include "metrics/collectors/interrupts_collector.h"
#include "metrics/collectors/isolation_collector.h"
#include "metrics/collectors/libvirt_collector.h"
#include "metrics/collectors/memory_collector.h"
#include "metrics/collectors/sched_collector.h"
#include "metrics/collectors/topology_collector.h"
#include "metrics/libvirt/libvirt_source.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/procfs/read_file.h"

namespace hostiso {
namespace {

using Seconds = std::chrono::duration<double>;

// A slow source's violations are kept while the source is down for three of
// its intervals, and never less than the registry's default.
Seconds ThreeIntervals(double interval_seconds) {
  return std::max<Seconds>(Seconds(3 * interval_seconds),
                           ViolationRegistry::kDefaultMaxAge);
}

std::unique_ptr<Collector> MakeLibvirt(const CollectorDeps& d) {
  LibvirtOptions options;
  options.uri = d.flags.libvirt_uri;
  options.timeout_seconds = d.flags.libvirt_timeout_seconds;
  options.refresh_seconds = d.flags.libvirt_refresh_seconds;
  options.procfs = d.paths.procfs;
  // libvirtd's status files hold real pids: only meaningful for the system
  // QEMU driver seen from our own PID namespace (not a fixture root).
  if (!d.paths.own_pid_namespace ||
      d.flags.libvirt_uri.rfind("qemu:///system", 0) != 0)
    options.run_dir.clear();
  const Seconds max_age = ThreeIntervals(d.flags.libvirt_refresh_seconds);
  for (ViolationKind kind :
       {ViolationKind::kVcpuOnHostCpu, ViolationKind::kEmulatorOnHostCpu,
        ViolationKind::kDedicatedCpuShared, ViolationKind::kCpuOvercommit})
    d.violations->SetMaxAge(kind, max_age);
  return std::make_unique<LibvirtCollector>(
      std::make_shared<LibvirtSource>(options, d.guests),
      d.flags.libvirt_refresh_seconds);
}

// --census.interval defaults to 15 s: Prometheus' usual scrape interval, so a
// scrape serves data at most one interval old, while the census costs about
// 0.1 s of one host core per 50,000 threads on a well-isolated host (under 1%
// of a core at 15 s) and runs at SCHED_IDLE anyway. Intrusion counters are
// time accumulated by the kernel, so a longer interval loses no intrusion
// time, only resolution of when it happened (and the time of threads that
// exit between two censuses).
std::unique_ptr<Collector> MakeCensus(const CollectorDeps& d) {
  CensusOptions options;
  options.paths = d.paths;
  options.top_comms = d.flags.census_top_comms;
  d.violations->SetMaxAge(ViolationKind::kHostTaskOnGuestCpu,
                          ThreeIntervals(d.flags.census_interval_seconds));
  auto worker = std::make_shared<CensusWorker>(
      std::make_unique<ThreadCensus>(options, d.guests), d.isolation,
      d.violations, Seconds(d.flags.census_interval_seconds));
  d.feeds->census = worker;
  return std::make_unique<CensusCollector>(std::move(worker));
}

std::unique_ptr<Collector> MakeDisk(const CollectorDeps& d) {
  DiskCollectorOptions options;
  options.env.procfs = d.paths.procfs;
  options.env.sysfs = d.paths.sysfs;
  options.env.rootfs = d.paths.rootfs;
  std::shared_ptr<IsolationSource> isolation = d.isolation;
  return std::make_unique<DiskCollector>(
      std::move(options), [isolation]() { return isolation->Current()->nova; });
}

// The host slices systemd makes on every host, then the operator's own.
std::unique_ptr<Collector> MakeCgroup(const CollectorDeps& d) {
  CgroupCollectorOptions options;
  options.root = d.flags.cgroupfs.empty() ? JoinPath(d.paths.sysfs, "fs/cgroup")
                                          : d.flags.cgroupfs;
  options.host_slices = {"system.slice", "user.slice", "init.scope"};
  options.host_slices.insert(options.host_slices.end(),
                             d.flags.cgroup_host_slices.begin(),
                             d.flags.cgroup_host_slices.end());
  return std::make_unique<CgroupCollector>(std::move(options));
}

// smt_sibling_shared is evaluated at every scrape (its role check needs only
// the layout): the registry's default max age. numa_misplacement needs
// libvirt's inventory, so it gets the libvirt kinds' max age, which is also
// how old an inventory the collector still uses.
std::unique_ptr<Collector> MakeTopology(const CollectorDeps& d) {
  TopologyOptions options;
  options.paths = d.paths;
  options.guests_enabled = d.flags.collectors.count("libvirt") != 0;
  options.census_enabled = d.flags.collectors.count("census") != 0;
  options.guests_max_age = ThreeIntervals(d.flags.libvirt_refresh_seconds);
  d.violations->SetMaxAge(ViolationKind::kNumaMisplacement,
                          options.guests_max_age);
  return std::make_unique<TopologyCollector>(std::move(options), d.guests);
}

// The scheduler's programs see the running kernel: with --path.procfs on a
// fixture tree (not a procfs mount) they would describe another host than the
// inventory, so the collector reports that instead of loading.
std::unique_ptr<Collector> MakeSched(const CollectorDeps& d) {
  SchedCollector::Loader loader = LoadSchedBpf;
  if (!IsProcfsMount(d.paths.procfs)) {
    const std::string why = "--path.procfs " + d.paths.procfs +
                            " is not the kernel's procfs (a fixture tree?): "
                            "the scheduler's data would not describe it";
    loader = [why]() -> Expected<std::unique_ptr<SchedBpf>> {
      return Error(why);
    };
  }
  std::shared_ptr<IsolationSource> isolation = d.isolation;
  auto sched = std::make_unique<SchedCollector>(
      d.guests,
      [isolation]() { return isolation->Current()->roles.GuestCpus(); },
      d.flags.census_top_comms, std::move(loader));
  d.vcpu_held->read = sched->VcpuTimeReader();
  return sched;
}

}  // namespace

const std::vector<CollectorSpec>& CollectorTable() {
  static const std::vector<CollectorSpec> kTable = {
      {"cpu", true,
       "per-CPU host/guest/steal/idle time (/proc/stat, /proc/schedstat; "
       "vCPU threads' schedstat where the guest column misses them)",
       [](const CollectorDeps& d) {
         return std::make_unique<CpuCollector>(d.paths, d.feeds->cpu_shares,
                                               d.guests, d.vcpu_held);
       }},
      {"isolation", true,
       "CPU roles, kernel isolation and the isolcpus_mismatch check",
       [](const CollectorDeps&) {
         return std::make_unique<IsolationCollector>();
       }},
      {"libvirt", true,
       "guests from libvirt: vCPU delay, pinning checks, vCPU overcommit",
       MakeLibvirt},
      {"census", true,
       "thread census: host tasks and their CPU time on guest CPUs",
       MakeCensus},
      {"interrupts", true, "device interrupts on guest CPUs (/proc/interrupts)",
       [](const CollectorDeps& d) {
         return std::make_unique<InterruptsCollector>(d.paths);
       }},
      {"memory", true,
       "memory reservation headroom and RAM overcommit (/proc/meminfo, "
       "hugepages)",
       [](const CollectorDeps& d) {
         // Without the libvirt collector nothing publishes guests: the
         // host's memory is all host memory.
         return std::make_unique<MemoryCollector>(
             d.paths,
             d.flags.collectors.count("libvirt") != 0 ? d.guests : nullptr);
       }},
      {"disk", true, "disk reservation headroom and layout per images_type",
       MakeDisk},
      {"cgroup", true,
       "cpusets and CPU time of libvirt's machine slice and the host slices "
       "(cgroup v2 or v1)",
       MakeCgroup},
      {"topology", true,
       "CPU packages, cores, SMT siblings and NUMA nodes; per-node memory and "
       "huge pages; smt_sibling_shared and numa_misplacement",
       MakeTopology},
      // On by default: where the programs cannot load (no CAP_BPF and
      // CAP_PERFMON, no BTF, built without BPF) it reports why, success 0.
      {"sched", true,
       "scheduler attribution from eBPF: who held each CPU, vCPU run-queue "
       "latency and what it waited for (CAP_BPF+CAP_PERFMON)",
       MakeSched},
  };
  return kTable;
}

std::vector<NamedCollector> MakeCollectors(const CollectorDeps& deps) {
  std::vector<NamedCollector> out;
  for (const CollectorSpec& spec : CollectorTable()) {
    const std::string name(spec.name);
    if (deps.flags.collectors.count(name) == 0) continue;
    out.push_back(NamedCollector{name, spec.make(deps)});
  }
  return out;
}

}  // namespace hostiso
