#pragma once

#include <string>
#include <vector>

#include "metrics/cpu_roles.h"
#include "metrics/cpu_set.h"
#include "metrics/violations.h"

namespace hostiso {

// One watched cgroup slice and its effective cpuset.
struct SliceCpuset {
  std::string slice;  // "system.slice", "machine"
  CpuSet cpus;
};

// host_slice_on_guest_cpu (metric contract): a host slice (system.slice,
// user.slice, init.scope, or one named by --cgroup.host-slice) whose
// effective cpuset covers a guest-role CPU: every host service started there
// may run on guest cores. Subject "slice system.slice", cpus = the guest-role
// CPUs it covers. Nothing without a configured guest set (every CPU is
// shared then).
std::vector<Violation> DetectHostSliceOnGuestCpu(
    const CpuRoles& roles, const std::vector<SliceCpuset>& host_slices);

// machine_slice_on_host_cpu (a project addition, docs/metrics.md): libvirt's
// machine slice whose effective cpuset covers a host-role CPU: a guest thread
// that is not pinned (a floating vCPU, an emulator or I/O thread) may run on
// host cores. The opposite direction of host_slice_on_guest_cpu, so a kind of
// its own. Subject "slice machine.slice", cpus = the host-role CPUs covered.
std::vector<Violation> DetectMachineSliceOnHostCpu(
    const CpuRoles& roles, const SliceCpuset& machine_slice);

}  // namespace hostiso
