#include "metrics/collectors/libvirt_collector.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_map>

#include "metrics/detectors/guest_detectors.h"
#include "metrics/family_builder.h"

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

namespace {

void AppendStatus(const LibvirtStatus& st,
                  std::vector<prometheus::MetricFamily>& out) {
  auto up = FamilyBuilder::Gauge(
      "hostiso_libvirt_up",
      "1 when the last libvirt refresh succeeded within its deadline.");
  up.Add({}, st.up ? 1 : 0);
  std::move(up).AppendTo(out);
  if (!st.last_good) return;
  auto age = FamilyBuilder::Gauge(
      "hostiso_libvirt_snapshot_age_seconds",
      "Age of the libvirt snapshot served (domains, metadata, pinning).");
  age.Add({}, std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            st.last_good->taken)
                  .count());
  std::move(age).AppendTo(out);
}

// hostiso_domain_{info,vcpus,memory_bytes,rss_bytes} of the running domains.
void AppendDomains(const GuestSample& sample, FamilyPool* pool,
                   std::vector<prometheus::MetricFamily>& out) {
  auto info =
      FamilyBuilder::Gauge("hostiso_domain_info",
                           "Running libvirt domain with its Nova metadata "
                           "(empty strings when absent); cpu_policy is "
                           "derived from the vCPU pins.",
                           pool);
  auto vcpus = FamilyBuilder::Gauge("hostiso_domain_vcpus",
                                    "vCPUs of the running domain.", pool);
  auto mem = FamilyBuilder::Gauge("hostiso_domain_memory_bytes",
                                  "Memory allocated to the domain.", pool);
  auto rss = FamilyBuilder::Gauge(
      "hostiso_domain_rss_bytes",
      "Resident memory of the domain's QEMU process (/proc/PID/statm).", pool);
  const auto& domains = sample.inventory->domains;
  for (FamilyBuilder* f : {&info, &vcpus, &mem, &rss})
    f->Reserve(domains.size());
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const GuestDomain& d = domains[i];
    const DomainSample& s = sample.domains[i];
    if (!s.running) continue;
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
    if (s.statm) {
      rss.Add({{"domain", d.name}},
              static_cast<double>(s.statm->resident * PageSizeBytes()));
    }
  }
  std::move(info).AppendTo(out);
  std::move(vcpus).AppendTo(out);
  std::move(mem).AppendTo(out);
  std::move(rss).AppendTo(out);
}

// The running domains of the sample: those whose QEMU has exited since the
// snapshot are left out. Usually all run: then the sample's inventory itself,
// without copying 500 domains' names, metadata and CPU sets every scrape.
std::shared_ptr<const GuestInventory> RunningDomains(
    const GuestSample& sample) {
  const auto& domains = sample.inventory->domains;
  bool all_running = true;
  for (const DomainSample& s : sample.domains) all_running &= s.running;
  if (all_running) return sample.inventory;
  auto live = std::make_shared<GuestInventory>();
  for (std::size_t i = 0; i < domains.size(); ++i)
    if (sample.domains[i].running) live->domains.push_back(domains[i]);
  return live;
}

// A vCPU index as label text, in `buf` (no allocation: once per vCPU series).
std::string_view FormatIndex(char (&buf)[16], int index) {
  const char* end = std::to_chars(buf, buf + sizeof buf, index).ptr;
  return {buf, static_cast<std::size_t>(end - buf)};
}

void AppendCapacity(const VcpuCapacity& cap, const NovaConfig& nova,
                    bool have_snapshot,
                    std::vector<prometheus::MetricFamily>& out) {
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
  if (!have_snapshot) return;
  auto alloc =
      FamilyBuilder::Gauge("hostiso_vcpus_allocated",
                           "vCPUs of running domains, by where they may run.");
  alloc.Add({{"policy", "shared"}}, static_cast<double>(cap.shared_allocated));
  alloc.Add({{"policy", "dedicated"}},
            static_cast<double>(cap.dedicated_allocated));
  std::move(alloc).AppendTo(out);
}

}  // namespace

LibvirtCollector::LibvirtCollector(std::shared_ptr<LibvirtSource> source,
                                   double refresh_seconds)
    : source_(std::move(source)), refresh_seconds_(refresh_seconds) {
  LibvirtSource* s = source_.get();
  status_ = [s] { return s->Current(); };
}

LibvirtCollector::LibvirtCollector(StatusFn status, double refresh_seconds)
    : status_(std::move(status)), refresh_seconds_(refresh_seconds) {}

void LibvirtCollector::Start() {
  if (source_) source_->Start();
}

bool LibvirtCollector::Stop(std::chrono::milliseconds grace) {
  return source_ ? source_->Stop(grace) : true;
}

void LibvirtCollector::BindVcpuCounters(
    std::shared_ptr<const GuestInventory> inventory) {
  std::unordered_map<std::string_view, std::size_t> previous;
  if (counters_inventory_) {
    const auto& old = counters_inventory_->domains;
    for (std::size_t i = 0; i < old.size(); ++i)
      previous.emplace(old[i].name, i);
  }
  std::vector<std::vector<detail::VcpuCounters>> bound(
      inventory->domains.size());
  for (std::size_t di = 0; di < inventory->domains.size(); ++di) {
    const GuestDomain& d = inventory->domains[di];
    bound[di].resize(d.vcpus.size());
    auto it = previous.find(d.name);
    if (it == previous.end()) continue;
    const GuestDomain& was = counters_inventory_->domains[it->second];
    for (std::size_t vi = 0; vi < d.vcpus.size(); ++vi) {
      for (std::size_t wi = 0; wi < was.vcpus.size(); ++wi) {
        if (was.vcpus[wi].index == d.vcpus[vi].index) {
          bound[di][vi] = vcpu_counters_[it->second][wi];
          break;
        }
      }
    }
  }
  vcpu_counters_ = std::move(bound);
  counters_inventory_ = std::move(inventory);
}

void LibvirtCollector::AppendVcpuSeries(
    const LibvirtStatus& st, const GuestSample& sample, FamilyPool* pool,
    std::vector<prometheus::MetricFamily>& out) {
  auto vtime = FamilyBuilder::Counter(
      "hostiso_vcpu_time_seconds_total",
      "vCPU thread run time (/proc/PID/task/TID/schedstat).", pool);
  auto vdelay =
      FamilyBuilder::Counter("hostiso_vcpu_delay_seconds_total",
                             "Time the vCPU thread was runnable but waiting "
                             "for a CPU: the steal its guest sees.",
                             pool);
  auto vcpu_cpu = FamilyBuilder::Gauge(
      "hostiso_vcpu_cpu", "Physical CPU the vCPU last ran on.", pool);
  auto vcpu_aff = FamilyBuilder::Gauge(
      "hostiso_vcpu_affinity_cpus",
      "Physical CPUs the vCPU may run on (1 = pinned).", pool);
  if (sample.inventory != counters_inventory_)
    BindVcpuCounters(sample.inventory);
  const auto& domains = sample.inventory->domains;
  std::size_t total_vcpus = 0;
  for (const GuestDomain& d : domains) total_vcpus += d.vcpus.size();
  for (FamilyBuilder* f : {&vtime, &vdelay, &vcpu_cpu, &vcpu_aff})
    f->Reserve(total_vcpus);
  for (std::size_t di = 0; di < domains.size(); ++di) {
    const GuestDomain& d = domains[di];
    const DomainSample& ds = sample.domains[di];
    std::vector<detail::VcpuCounters>& counters = vcpu_counters_[di];
    if (!ds.running) {
      // Gone since the snapshot: its vCPUs start afresh if it comes back.
      std::fill(counters.begin(), counters.end(), detail::VcpuCounters{});
      continue;
    }
    const std::map<int, VcpuBulkStats>* bulk = nullptr;
    if (st.last_good) {
      auto it = st.last_good->bulk.find(d.name);
      if (it != st.last_good->bulk.end()) bulk = &it->second;
    }
    for (std::size_t vi = 0; vi < d.vcpus.size(); ++vi) {
      const GuestVcpu& v = d.vcpus[vi];
      const VcpuSample& vs = ds.vcpus[vi];
      char idx_buf[16];
      const std::string_view idx = FormatIndex(idx_buf, v.index);
      std::optional<std::uint64_t> t = vs.run_ns, dl = vs.delay_ns;
      pid_t source_id = t ? v.tid : 0;
      if (!t && bulk != nullptr) {
        if (auto it = bulk->find(v.index); it != bulk->end()) {
          t = it->second.time_ns;
          dl = it->second.delay_ns;
        }
      }
      if (t) {
        auto r = counters[vi].Observe(source_id, *t, dl.value_or(0));
        vtime.Add({{"domain", d.name}, {"vcpu", idx}}, r.time_seconds);
        if (dl) {
          vdelay.Add({{"domain", d.name}, {"vcpu", idx}}, r.delay_seconds);
          if (vs.cpu >= 0 && r.delay_delta_ns > 0)
            cpu_delay_seconds_[vs.cpu] +=
                static_cast<double>(r.delay_delta_ns) / 1e9;
        }
      } else {
        counters[vi] = detail::VcpuCounters{};  // no counters: starts afresh
      }
      if (vs.cpu >= 0)
        vcpu_cpu.Add({{"domain", d.name}, {"vcpu", idx}}, vs.cpu);
      if (!v.affinity.Empty())
        vcpu_aff.Add({{"domain", d.name}, {"vcpu", idx}}, v.affinity.Count());
    }
  }
  std::move(vtime).AppendTo(out);
  std::move(vdelay).AppendTo(out);
  std::move(vcpu_cpu).AppendTo(out);
  std::move(vcpu_aff).AppendTo(out);
}

void LibvirtCollector::AppendCpuDelay(
    const CpuRoles& roles, FamilyPool* pool,
    std::vector<prometheus::MetricFamily>& out) {
  auto cpu_delay = FamilyBuilder::Counter(
      "hostiso_cpu_vcpu_delay_seconds_total",
      "vCPU run-queue delay attributed to the physical CPU the vCPU was on.",
      pool);
  for (int cpu : roles.Cpus().Members())
    cpu_delay_seconds_.try_emplace(cpu, 0.0);
  for (const auto& [cpu, seconds] : cpu_delay_seconds_)
    cpu_delay.Add({{"cpu", std::to_string(cpu)}}, seconds);
  std::move(cpu_delay).AppendTo(out);
}

Expected<void> LibvirtCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  const LibvirtStatus st = status_();
  const CpuRoles& roles = ctx.isolation.roles;
  const NovaConfig nova = ctx.isolation.nova.value_or(NovaConfig{});
  AppendStatus(st, out);

  static const auto kNoGuests = std::make_shared<const GuestInventory>();
  const GuestSample& sample =
      ctx.guests.Sample(st.last_good ? st.last_good->inventory : kNoGuests);
  AppendDomains(sample, ctx.families, out);
  AppendVcpuSeries(st, sample, ctx.families, out);
  AppendCpuDelay(roles, ctx.families, out);

  const std::shared_ptr<const GuestInventory> running = RunningDomains(sample);
  const GuestInventory& live = *running;
  const VcpuCapacity cap = ComputeVcpuCapacity(live, roles, nova);
  AppendCapacity(cap, nova, st.last_good != nullptr, out);

  // The detectors run on a snapshot of a libvirt that answers. While it does
  // not, nothing is reported and the registry expires the subjects after
  // three refresh intervals (ViolationRegistry::SetMaxAge in the collector
  // table): guests rarely change in that time, and stale data is never
  // reported for longer.
  if (st.last_good && st.up) {
    const bool pinning = roles.IsolationConfigured();
    ctx.violations.Report(
        ViolationKind::kVcpuOnHostCpu,
        pinning ? DetectVcpuOnHostCpu(live, roles) : std::vector<Violation>{});
    ctx.violations.Report(ViolationKind::kEmulatorOnHostCpu,
                          pinning ? DetectEmulatorOnHostCpu(live, roles)
                                  : std::vector<Violation>{});
    ctx.violations.Report(ViolationKind::kDedicatedCpuShared,
                          pinning ? DetectDedicatedCpuShared(live, roles)
                                  : std::vector<Violation>{});
    // Overcommit needs a configured host: nova.conf or
    // --isolation.guest-cpus.
    const bool configured =
        roles.IsolationConfigured() || ctx.isolation.nova.has_value();
    ctx.violations.Report(
        ViolationKind::kCpuOvercommit,
        configured ? DetectCpuOvercommit(cap) : std::vector<Violation>{});
  }
  if (!st.up) {
    return Error("libvirt is not answering: " +
                 (st.error.empty() ? std::string("no refresh yet") : st.error));
  }
  return Ok();
}

}  // namespace hostiso
