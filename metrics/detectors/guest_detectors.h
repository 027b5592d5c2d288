#pragma once

#include <cstdint>
#include <vector>

#include "metrics/cpu_roles.h"
#include "metrics/guest_inventory.h"
#include "metrics/nova_config.h"
#include "metrics/violations.h"

namespace hostiso {

// Pinning detectors over one GuestInventory (metric contract, "Isolation
// violations"). Callers run them only when roles.IsolationConfigured().

// vcpu_on_host_cpu: "DOMAIN vcpu N", cpus = the vCPU's affinity ∩ host CPUs.
std::vector<Violation> DetectVcpuOnHostCpu(const GuestInventory& inv,
                                           const CpuRoles& roles);

// emulator_on_host_cpu: "DOMAIN emulator" and "DOMAIN iothread N" (N = the
// libvirt I/O thread id, assumed 1..n in order), cpus = affinity ∩ host CPUs.
std::vector<Violation> DetectEmulatorOnHostCpu(const GuestInventory& inv,
                                               const CpuRoles& roles);

// dedicated_cpu_shared: "cpu N" for a dedicated-role CPU that is in the
// affinity of more than one vCPU, or of any floating vCPU (affinity of more
// than one CPU).
std::vector<Violation> DetectDedicatedCpuShared(const GuestInventory& inv,
                                                const CpuRoles& roles);

// How many vCPUs may run where, against what nova.conf allows.
struct VcpuCapacity {
  double shared_capacity =
      0;  // (shared + legacy guest CPUs) x cpu_allocation_ratio
  double dedicated_capacity = 0;  // dedicated CPUs
  std::uint64_t shared_allocated = 0;
  std::uint64_t dedicated_allocated = 0;
  CpuSet shared_cpus, dedicated_cpus;
};

// A vCPU is "dedicated" when its domain's cpu_policy is dedicated or its
// affinity is a single dedicated-role CPU; every other vCPU (legacy "guest"
// role included) is "shared". A domain whose vCPU list is empty counts its
// vcpu_count as shared.
VcpuCapacity ComputeVcpuCapacity(const GuestInventory& inv,
                                 const CpuRoles& roles, const NovaConfig& nova);

// cpu_overcommit: "policy shared" / "policy dedicated" when allocated vCPUs
// exceed the capacity; cpus = that policy's CPUs.
std::vector<Violation> DetectCpuOvercommit(const VcpuCapacity& cap);

// Guest memory: allocated (sum of running domains) against
// (MemTotal - reserved_host_memory_mb) x ram_allocation_ratio.
struct GuestMemory {
  std::uint64_t allocated_bytes = 0;
  double capacity_bytes = 0;
};
GuestMemory ComputeGuestMemory(const GuestInventory& inv,
                               std::uint64_t mem_total_bytes,
                               const NovaConfig& nova);

// ram_overcommit: subject "memory" when allocated > capacity.
std::vector<Violation> DetectRamOvercommit(const GuestMemory& mem);

}  // namespace hostiso
