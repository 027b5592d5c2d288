#include "metrics/detectors/cgroup_slices.h"

namespace hostiso {

std::vector<Violation> DetectHostSliceOnGuestCpu(
    const CpuRoles& roles, const std::vector<SliceCpuset>& host_slices) {
  std::vector<Violation> out;
  if (!roles.IsolationConfigured()) return out;
  for (const SliceCpuset& s : host_slices) {
    CpuSet offending = s.cpus.Intersect(roles.GuestCpus());
    if (!offending.Empty())
      out.push_back(Violation{"slice " + s.slice, std::move(offending)});
  }
  return out;
}

std::vector<Violation> DetectMachineSliceOnHostCpu(
    const CpuRoles& roles, const SliceCpuset& machine_slice) {
  std::vector<Violation> out;
  if (!roles.IsolationConfigured()) return out;
  CpuSet offending = machine_slice.cpus.Intersect(roles.HostCpus());
  if (!offending.Empty())
    out.push_back(
        Violation{"slice " + machine_slice.slice, std::move(offending)});
  return out;
}

}  // namespace hostiso
