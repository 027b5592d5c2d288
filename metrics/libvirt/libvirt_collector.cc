#include "metrics/libvirt/libvirt_collector.h"

#include <unistd.h>

#include <algorithm>

#include "metrics/family_builder.h"
#include "metrics/file_reader.h"
#include "metrics/libvirt/guest_detectors.h"
#include "metrics/libvirt/proc_guest.h"

namespace hostiso {

namespace detail {

VcpuCounters::Result VcpuCounters::Observe(pid_t source_id,
                                           std::uint64_t time_ns,
                                           std::uint64_t delay_ns) {
  Result r;
  if (!seen_ || source_id != source_) {
    seen_ = true;
    source_ = source_id;
    time_ = static_cast<double>(time_ns) / 1e9;
    delay_ = static_cast<double>(delay_ns) / 1e9;
  } else {
    if (delay_ns > raw_delay_) r.delay_delta_ns = delay_ns - raw_delay_;
    time_ = std::max(time_, static_cast<double>(time_ns) / 1e9);
    delay_ = std::max(delay_, static_cast<double>(delay_ns) / 1e9);
  }
  raw_time_ = time_ns;
  raw_delay_ = delay_ns;
  r.time_seconds = time_;
  r.delay_seconds = delay_;
  return r;
}

}  // namespace detail

LibvirtCollector::LibvirtCollector(std::shared_ptr<LibvirtSource> source,
                                   std::string procfs, double refresh_seconds)
    : source_(std::move(source)),
      procfs_(std::move(procfs)),
      refresh_seconds_(refresh_seconds) {
  LibvirtSource* s = source_.get();
  status_ = [s] { return s->Current(); };
  page_size_ = ::sysconf(_SC_PAGESIZE);
}

LibvirtCollector::LibvirtCollector(StatusFn status, std::string procfs,
                                   double refresh_seconds)
    : status_(std::move(status)),
      procfs_(std::move(procfs)),
      refresh_seconds_(refresh_seconds) {
  page_size_ = ::sysconf(_SC_PAGESIZE);
}

bool LibvirtCollector::Collect(const ScrapeContext& ctx,
                               std::vector<prometheus::MetricFamily>& out) {
  const LibvirtStatus st = status_();
  const auto now = std::chrono::steady_clock::now();
  const CpuRoles& roles = ctx.isolation.roles;
  const NovaConfig nova = ctx.isolation.nova.value_or(NovaConfig{});
  // libvirt errors are logged once each by the worker (LibvirtSource), not
  // here at every scrape.

  auto up = FamilyBuilder::Gauge(
      "hostiso_libvirt_up",
      "1 when the last libvirt refresh succeeded within its deadline.");
  up.Add({}, st.up ? 1 : 0);
  std::move(up).AppendTo(out);
  double age = -1;
  if (st.last_good) {
    age = std::chrono::duration<double>(now - st.last_good->taken).count();
    auto age_g = FamilyBuilder::Gauge(
        "hostiso_libvirt_snapshot_age_seconds",
        "Age of the libvirt snapshot served (domains, metadata, pinning).");
    age_g.Add({}, age);
    std::move(age_g).AppendTo(out);
  }

  static const GuestInventory kEmpty;
  const GuestInventory& inv = st.last_good ? *st.last_good->inventory : kEmpty;

  auto info =
      FamilyBuilder::Gauge("hostiso_domain_info",
                           "Running libvirt domain with its Nova metadata "
                           "(empty strings when absent); cpu_policy is "
                           "derived from the vCPU pins.");
  auto vcpus = FamilyBuilder::Gauge("hostiso_domain_vcpus",
                                    "vCPUs of the running domain.");
  auto mem = FamilyBuilder::Gauge("hostiso_domain_memory_bytes",
                                  "Memory allocated to the domain.");
  auto rss = FamilyBuilder::Gauge(
      "hostiso_domain_rss_bytes",
      "Resident memory of the domain's QEMU process (/proc/PID/statm).");
  auto vtime = FamilyBuilder::Counter(
      "hostiso_vcpu_time_seconds_total",
      "vCPU thread run time (/proc/PID/task/TID/schedstat).");
  auto vdelay =
      FamilyBuilder::Counter("hostiso_vcpu_delay_seconds_total",
                             "Time the vCPU thread was runnable but waiting "
                             "for a CPU: the steal its guest sees.");
  auto vcpu_cpu = FamilyBuilder::Gauge("hostiso_vcpu_cpu",
                                       "Physical CPU the vCPU last ran on.");
  auto vcpu_aff =
      FamilyBuilder::Gauge("hostiso_vcpu_affinity_cpus",
                           "Physical CPUs the vCPU may run on (1 = pinned).");
  std::size_t nvcpu = 0;
  for (const GuestDomain& d : inv.domains) nvcpu += d.vcpus.size();
  vtime.Reserve(nvcpu);
  vdelay.Reserve(nvcpu);
  vcpu_cpu.Reserve(nvcpu);
  vcpu_aff.Reserve(nvcpu);

  ++round_;
  std::string key;
  std::vector<bool> gone(inv.domains.size(), false);
  for (std::size_t di = 0; di < inv.domains.size(); ++di) {
    const GuestDomain& d = inv.domains[di];
    std::string pid_dir;
    if (d.qemu_pid > 0) {
      pid_dir = JoinPath(procfs_, std::to_string(d.qemu_pid));
      auto statm = ReadFile(pid_dir + "/statm");
      // QEMU gone (the guest stopped since the snapshot, e.g. while libvirt
      // is down): drop its series, and its violations below.
      if (!statm) {
        gone[di] = true;
        continue;
      }
      if (auto pages = ParseStatmResidentPages(*statm))
        rss.Add({{"domain", d.name}},
                static_cast<double>(*pages) * static_cast<double>(page_size_));
    }
    info.Add({{"domain", d.name},
              {"uuid", d.uuid},
              {"instance_name", d.instance_name},
              {"project_id", d.project_id},
              {"project_name", d.project_name},
              {"flavor", d.flavor},
              {"cpu_policy", d.cpu_policy}},
             1);
    vcpus.Add({{"domain", d.name}}, d.vcpu_count);
    mem.Add({{"domain", d.name}}, static_cast<double>(d.memory_bytes));
    const std::map<int, VcpuBulkStats>* bulk = nullptr;
    if (st.last_good) {
      auto it = st.last_good->bulk.find(d.name);
      if (it != st.last_good->bulk.end()) bulk = &it->second;
    }
    for (const GuestVcpu& v : d.vcpus) {
      std::string idx = std::to_string(v.index);
      int cpu = v.last_cpu;
      std::optional<std::uint64_t> t, dl;
      pid_t source_id = 0;
      if (v.tid > 0 && !pid_dir.empty()) {
        std::string task = pid_dir + "/task/" + std::to_string(v.tid);
        if (auto text = ReadFile(task + "/schedstat")) {
          if (auto ss = ParseTaskSchedstat(*text)) {
            t = ss->run_ns;
            dl = ss->delay_ns;
            source_id = v.tid;
          }
        }
        if (auto text = ReadFile(task + "/stat")) {
          if (auto p = ParseStatProcessor(*text)) cpu = *p;
        }
      }
      if (!t && bulk != nullptr) {
        if (auto it = bulk->find(v.index); it != bulk->end()) {
          t = it->second.time_ns;
          dl = it->second.delay_ns;
        }
      }
      if (t) {
        key.assign(d.name).push_back('\0');
        key.append(idx);
        VcpuState& vs = vcpus_[key];
        vs.round = round_;
        auto r = vs.counters.Observe(source_id, *t, dl.value_or(0));
        vtime.Add({{"domain", d.name}, {"vcpu", idx}}, r.time_seconds);
        if (dl) {
          vdelay.Add({{"domain", d.name}, {"vcpu", idx}}, r.delay_seconds);
          if (cpu >= 0 && r.delay_delta_ns > 0)
            cpu_delay_seconds_[cpu] +=
                static_cast<double>(r.delay_delta_ns) / 1e9;
        }
      }
      if (cpu >= 0) vcpu_cpu.Add({{"domain", d.name}, {"vcpu", idx}}, cpu);
      if (!v.affinity.Empty())
        vcpu_aff.Add({{"domain", d.name}, {"vcpu", idx}}, v.affinity.Count());
    }
  }
  // vCPUs not seen this round (domain gone, or no counters) start afresh.
  std::erase_if(vcpus_,
                [&](const auto& kv) { return kv.second.round != round_; });

  std::move(info).AppendTo(out);
  std::move(vcpus).AppendTo(out);
  std::move(mem).AppendTo(out);
  std::move(rss).AppendTo(out);
  std::move(vtime).AppendTo(out);
  std::move(vdelay).AppendTo(out);
  std::move(vcpu_cpu).AppendTo(out);
  std::move(vcpu_aff).AppendTo(out);

  auto cpu_delay = FamilyBuilder::Counter(
      "hostiso_cpu_vcpu_delay_seconds_total",
      "vCPU run-queue delay attributed to the physical CPU the vCPU was on.");
  for (int cpu : roles.Cpus().Members())
    cpu_delay_seconds_.try_emplace(cpu, 0.0);
  for (const auto& [cpu, seconds] : cpu_delay_seconds_)
    cpu_delay.Add({{"cpu", std::to_string(cpu)}}, seconds);
  std::move(cpu_delay).AppendTo(out);

  // The running domains: the snapshot minus those whose QEMU has exited.
  GuestInventory filtered;
  const GuestInventory* live = &inv;
  if (std::find(gone.begin(), gone.end(), true) != gone.end()) {
    for (std::size_t di = 0; di < inv.domains.size(); ++di)
      if (!gone[di]) filtered.domains.push_back(inv.domains[di]);
    live = &filtered;
  }

  // Capacity against nova.conf (Nova's defaults without one).
  VcpuCapacity cap = ComputeVcpuCapacity(*live, roles, nova);
  auto capacity =
      FamilyBuilder::Gauge("hostiso_vcpu_capacity",
                           "vCPUs the host may run: shared (and legacy guest) "
                           "CPUs x cpu_allocation_ratio; dedicated CPUs.");
  capacity.Add({{"policy", "shared"}}, cap.shared_capacity);
  capacity.Add({{"policy", "dedicated"}}, cap.dedicated_capacity);
  std::move(capacity).AppendTo(out);
  auto ratio = FamilyBuilder::Gauge(
      "hostiso_allocation_ratio",
      "Allocation ratio from nova.conf (Nova's default without one).");
  ratio.Add({{"resource", "cpu"}}, nova.cpu_allocation_ratio);
  ratio.Add({{"resource", "ram"}}, nova.ram_allocation_ratio);
  ratio.Add({{"resource", "disk"}}, nova.disk_allocation_ratio);
  std::move(ratio).AppendTo(out);

  std::optional<GuestMemory> gmem;
  auto meminfo = ReadFile(JoinPath(procfs_, "meminfo"));
  auto total = meminfo ? ParseMemTotalBytes(*meminfo)
                       : Expected<std::uint64_t>::Error(meminfo.error());
  if (total) {
    meminfo_latch_.Ok();
    gmem = ComputeGuestMemory(*live, *total, nova);
    auto gcap = FamilyBuilder::Gauge(
        "hostiso_memory_guest_capacity_bytes",
        "(MemTotal - reserved_host_memory_mb) x ram_allocation_ratio.");
    gcap.Add({}, gmem->capacity_bytes);
    std::move(gcap).AppendTo(out);
  } else {
    meminfo_latch_.Fail(total.error());
  }
  if (st.last_good) {
    auto alloc = FamilyBuilder::Gauge(
        "hostiso_vcpus_allocated",
        "vCPUs of running domains, by where they may run.");
    alloc.Add({{"policy", "shared"}},
              static_cast<double>(cap.shared_allocated));
    alloc.Add({{"policy", "dedicated"}},
              static_cast<double>(cap.dedicated_allocated));
    std::move(alloc).AppendTo(out);
    auto galloc = FamilyBuilder::Gauge("hostiso_memory_guest_allocated_bytes",
                                       "Sum of running domains' memory.");
    std::uint64_t sum = 0;
    for (const GuestDomain& d : live->domains) sum += d.memory_bytes;
    galloc.Add({}, static_cast<double>(sum));
    std::move(galloc).AppendTo(out);
  }

  // Detectors. A snapshot stays authoritative while libvirt is down for up to
  // three refresh intervals (guests rarely change in that time); after that
  // its violations are cleared rather than reported on stale data.
  bool usable = st.last_good && (st.up || age < 3 * refresh_seconds_);
  bool pinning = usable && roles.IsolationConfigured();
  // Overcommit needs a configured host: nova.conf or --isolation.guest-cpus.
  bool overcommit =
      usable && (roles.IsolationConfigured() || ctx.isolation.nova.has_value());
  ctx.violations.Report(
      ViolationKind::kVcpuOnHostCpu,
      pinning ? DetectVcpuOnHostCpu(*live, roles) : std::vector<Violation>{});
  ctx.violations.Report(ViolationKind::kEmulatorOnHostCpu,
                        pinning ? DetectEmulatorOnHostCpu(*live, roles)
                                : std::vector<Violation>{});
  ctx.violations.Report(ViolationKind::kDedicatedCpuShared,
                        pinning ? DetectDedicatedCpuShared(*live, roles)
                                : std::vector<Violation>{});
  ctx.violations.Report(
      ViolationKind::kCpuOvercommit,
      overcommit ? DetectCpuOvercommit(cap) : std::vector<Violation>{});
  ctx.violations.Report(ViolationKind::kRamOvercommit,
                        overcommit && gmem ? DetectRamOvercommit(*gmem)
                                           : std::vector<Violation>{});
  return st.up;
}

}  // namespace hostiso
