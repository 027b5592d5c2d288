#pragma once

#include <vector>

#include "metrics/cpu_roles.h"
#include "metrics/violations.h"

namespace hostiso {

// isolcpus_mismatch (metric contract):
//  - a host-role or shared-role CPU that the kernel isolates: host services and
//    floating vCPUs lose load balancing there. Subject "cpu N (role)".
//  - a dedicated CPU set that kernel isolation covers none of. Subject
//    "nova.conf cpu_dedicated_set", cpus = the dedicated set.
// `isolated` is /sys/devices/system/cpu/isolated; `online` limits the check
// to CPUs that can run anything.
std::vector<Violation> DetectIsolcpusMismatch(const CpuRoles& roles,
                                              const CpuSet& isolated,
                                              const CpuSet& online);

}  // namespace hostiso
