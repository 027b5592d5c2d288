#include "metrics/detectors/guest_detectors.h"

#include <algorithm>
#include <string>

namespace hostiso {

std::vector<Violation> DetectVcpuOnHostCpu(const GuestInventory& inv,
                                           const CpuRoles& roles) {
  std::vector<Violation> out;
  for (const GuestDomain& d : inv.domains) {
    for (const GuestVcpu& v : d.vcpus) {
      // Intersects() first: building the intersection allocates, and almost
      // every vCPU of a healthy host has none (4,000 a scrape on a big one).
      if (!v.affinity.Intersects(roles.HostCpus())) continue;
      out.push_back({d.name + " vcpu " + std::to_string(v.index),
                     v.affinity.Intersect(roles.HostCpus())});
    }
  }
  return out;
}

std::vector<Violation> DetectEmulatorOnHostCpu(const GuestInventory& inv,
                                               const CpuRoles& roles) {
  std::vector<Violation> out;
  for (const GuestDomain& d : inv.domains) {
    CpuSet bad = d.emulator_affinity.Intersect(roles.HostCpus());
    if (!bad.Empty()) out.push_back({d.name + " emulator", bad});
    for (std::size_t i = 0; i < d.iothread_affinity.size(); ++i) {
      CpuSet io_bad = d.iothread_affinity[i].Intersect(roles.HostCpus());
      if (!io_bad.Empty())
        out.push_back({d.name + " iothread " + std::to_string(i + 1), io_bad});
    }
  }
  return out;
}

std::vector<Violation> DetectDedicatedCpuShared(const GuestInventory& inv,
                                                const CpuRoles& roles) {
  const CpuSet& dedicated = roles.DedicatedCpus();
  if (dedicated.Empty()) return {};
  std::vector<int> users(static_cast<std::size_t>(dedicated.End()), 0);
  CpuSet floating_reach;
  for (const GuestDomain& d : inv.domains) {
    for (const GuestVcpu& v : d.vcpus) {
      if (v.affinity.Count() == 1) {  // pinned: its one CPU, no set built
        const int cpu = v.affinity.End() - 1;
        if (dedicated.Contains(cpu)) ++users[static_cast<std::size_t>(cpu)];
        continue;
      }
      CpuSet on = v.affinity.Intersect(dedicated);
      for (int cpu : on.Members()) ++users[static_cast<std::size_t>(cpu)];
      floating_reach = floating_reach.Union(on);
    }
  }
  std::vector<Violation> out;
  for (int cpu : dedicated.Members()) {
    if (users[static_cast<std::size_t>(cpu)] > 1 ||
        floating_reach.Contains(cpu))
      out.push_back({"cpu " + std::to_string(cpu), CpuSet::FromList({cpu})});
  }
  return out;
}

VcpuCapacity ComputeVcpuCapacity(const GuestInventory& inv,
                                 const CpuRoles& roles,
                                 const NovaConfig& nova) {
  VcpuCapacity cap;
  cap.dedicated_cpus = roles.DedicatedCpus();
  cap.shared_cpus = roles.GuestCpus().Minus(roles.DedicatedCpus());
  cap.shared_capacity = cap.shared_cpus.Count() * nova.cpu_allocation_ratio;
  cap.dedicated_capacity = cap.dedicated_cpus.Count();
  for (const GuestDomain& d : inv.domains) {
    bool domain_dedicated = d.cpu_policy == "dedicated";
    if (d.vcpus.empty()) {
      std::uint64_t n = static_cast<std::uint64_t>(std::max(d.vcpu_count, 0));
      (domain_dedicated ? cap.dedicated_allocated : cap.shared_allocated) += n;
      continue;
    }
    for (const GuestVcpu& v : d.vcpus) {
      bool dedicated =
          domain_dedicated || (v.affinity.Count() == 1 &&
                               cap.dedicated_cpus.Intersects(v.affinity));
      ++(dedicated ? cap.dedicated_allocated : cap.shared_allocated);
    }
  }
  return cap;
}

std::vector<Violation> DetectCpuOvercommit(const VcpuCapacity& cap) {
  std::vector<Violation> out;
  if (static_cast<double>(cap.shared_allocated) > cap.shared_capacity)
    out.push_back({"policy shared", cap.shared_cpus});
  if (static_cast<double>(cap.dedicated_allocated) > cap.dedicated_capacity)
    out.push_back({"policy dedicated", cap.dedicated_cpus});
  return out;
}

GuestMemory ComputeGuestMemory(const GuestInventory& inv,
                               std::uint64_t mem_total_bytes,
                               const NovaConfig& nova) {
  GuestMemory m;
  for (const GuestDomain& d : inv.domains) m.allocated_bytes += d.memory_bytes;
  double reserved =
      static_cast<double>(nova.reserved_host_memory_mb) * 1024.0 * 1024.0;
  m.capacity_bytes =
      std::max(0.0, static_cast<double>(mem_total_bytes) - reserved) *
      nova.ram_allocation_ratio;
  return m;
}

std::vector<Violation> DetectRamOvercommit(const GuestMemory& mem) {
  if (static_cast<double>(mem.allocated_bytes) > mem.capacity_bytes)
    return {{"memory", CpuSet()}};
  return {};
}

}  // namespace hostiso
