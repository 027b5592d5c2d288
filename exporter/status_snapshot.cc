#include "exporter/status_snapshot.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "metrics/procfs/host_paths.h"

namespace hostiso {
namespace {

// vCPUs by the CPU they sit on: the one CPU of a pinned vCPU's affinity, or
// the CPU a floating vCPU last ran on.
std::map<int, std::vector<StatusVcpuRef>> VcpusByCpu(
    const GuestInventory* inv) {
  std::map<int, std::vector<StatusVcpuRef>> out;
  if (inv == nullptr) return out;
  for (const GuestDomain& d : inv->domains) {
    for (const GuestVcpu& v : d.vcpus) {
      const bool pinned = v.affinity.Count() == 1;
      const int cpu = pinned ? v.affinity.Members().front() : v.last_cpu;
      if (cpu >= 0) out[cpu].push_back(StatusVcpuRef{d.name, v.index, pinned});
    }
  }
  return out;
}

void PlaceCpu(const CpuLayout* layout, StatusCpu& c) {
  if (layout == nullptr) return;
  if (const CpuPlace* p = layout->Find(c.cpu)) {
    c.node = p->numa_node;
    c.package = p->package;
    c.core = p->core;
  }
}

std::vector<StatusCpu> BuildCpus(const StatusInputs& in) {
  const IsolationSnapshot& iso = *in.isolation;
  std::map<int, CpuShare> shares;
  if (in.shares.value)
    for (const CpuShare& s : in.shares.value->cpus) shares[s.cpu] = s;
  std::map<int, const CpuIntruder*> intruders;
  if (in.census.value)
    for (const CpuIntruder& i : in.census.value->top_intruders)
      intruders[i.cpu] = &i;
  CpuSet violating;
  for (const auto& [kind, list] : in.violations)
    for (const Violation& v : list) violating = violating.Union(v.cpus);
  auto vcpus = VcpusByCpu(in.inventory.get());
  const double hz = ClockTicksPerSecond();

  std::vector<StatusCpu> out;
  for (int cpu : iso.topology.online.Members()) {
    StatusCpu c;
    c.cpu = cpu;
    PlaceCpu(in.layout, c);
    c.role = std::string(CpuRoleName(iso.roles.RoleOf(cpu)));
    c.isolated = iso.topology.isolated.Contains(cpu);
    c.nohz_full = iso.topology.nohz_full.Contains(cpu);
    if (auto it = shares.find(cpu); it != shares.end()) c.share = it->second;
    if (auto it = vcpus.find(cpu); it != vcpus.end()) c.vcpus = it->second;
    if (auto it = intruders.find(cpu); it != intruders.end()) {
      c.intruder = it->second->comm;
      c.intruder_seconds = static_cast<double>(it->second->ticks) / hz;
    }
    c.violating = violating.Contains(cpu);
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const StatusCpu& a, const StatusCpu& b) {
                     return std::tie(a.node, a.package, a.core, a.cpu) <
                            std::tie(b.node, b.package, b.core, b.cpu);
                   });
  return out;
}

std::vector<StatusGuest> BuildGuests(const GuestInventory* inv) {
  std::vector<StatusGuest> out;
  if (inv == nullptr) return out;
  for (const GuestDomain& d : inv->domains) {
    StatusGuest g{d.name,
                  d.uuid,
                  d.instance_name,
                  d.cpu_policy,
                  d.emulator_affinity.ToString(),
                  {}};
    for (const GuestVcpu& v : d.vcpus)
      g.vcpus.push_back(StatusVcpu{v.index, v.last_cpu, v.affinity.ToString()});
    out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(),
            [](const StatusGuest& a, const StatusGuest& b) {
              return a.name < b.name;
            });
  return out;
}

std::vector<StatusCollector> BuildCollectors(const StatusInputs& in) {
  std::vector<StatusCollector> out;
  for (const auto& [name, enabled] : in.collectors) {
    StatusCollector c;
    c.name = name;
    const CollectorStatus* st = nullptr;
    for (const CollectorStatus& s : in.statuses)
      if (s.name == name) st = &s;
    if (!enabled) {
      c.state = "disabled";
    } else if (st == nullptr || !st->ran) {
      c.state = "not run yet";
    } else {
      c.state = st->success ? "ok" : "failing";
      c.error = st->error;
      c.age_seconds =
          std::chrono::duration<double>(in.now_system - st->at).count();
      c.duration_seconds = st->duration_seconds;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<StatusSource> BuildSources(const StatusInputs& in) {
  const IsolationSnapshot& iso = *in.isolation;
  std::string nova = "not found";
  if (iso.nova_present || !iso.nova_load_success)
    nova = iso.nova_load_success ? "loaded" : "error: " + iso.nova_error;
  return {
      {"nova.conf", iso.nova_path, nova},
      {"guest CPU set", std::string(GuestSetSourceName(iso.guest_sets.source)),
       iso.roles.GuestCpus().ToString()},
      {"procfs", in.procfs, iso.cmdline_ok ? "ok" : iso.cmdline_error},
      {"sysfs", in.sysfs, iso.topology_ok ? "ok" : iso.topology_error},
      {"CPU layout", in.sysfs,
       in.layout != nullptr ? "ok" : "unavailable: " + in.layout_error},
  };
}

}  // namespace

StatusSnapshot BuildStatusSnapshot(const StatusInputs& in) {
  StatusSnapshot s;
  s.version = in.version;
  s.telemetry_path = in.telemetry_path;
  s.layout_error = in.layout != nullptr ? "" : in.layout_error;
  if (in.shares.value) {
    s.shares_interval_seconds = in.shares.value->interval_seconds;
    s.shares_age_seconds = in.shares.AgeSeconds(in.now_steady);
  }
  s.census_age_seconds = in.census.AgeSeconds(in.now_steady);
  if (in.inventory) {
    s.inventory_source = in.inventory->source;
    if (in.inventory->taken != std::chrono::steady_clock::time_point{})
      s.inventory_age_seconds =
          std::chrono::duration<double>(in.now_steady - in.inventory->taken)
              .count();
  }
  for (const auto& [kind, list] : in.violations)
    for (const Violation& v : list)
      s.violations.push_back(StatusViolation{
          std::string(ViolationKindName(kind)), v.subject, v.cpus.ToString()});
  s.cpus = BuildCpus(in);
  s.guests = BuildGuests(in.inventory.get());
  s.collectors = BuildCollectors(in);
  s.sources = BuildSources(in);
  return s;
}

}  // namespace hostiso
