#include "metrics/detectors/isolcpus_mismatch.h"

#include <string>

namespace hostiso {

std::vector<Violation> DetectIsolcpusMismatch(const CpuRoles& roles,
                                              const CpuSet& isolated,
                                              const CpuSet& online) {
  std::vector<Violation> out;
  for (int cpu : isolated.Intersect(online).Members()) {
    CpuRole role = roles.RoleOf(cpu);
    if (!roles.Cpus().Contains(cpu)) continue;
    if (role == CpuRole::kHost || role == CpuRole::kShared) {
      out.push_back(Violation{"cpu " + std::to_string(cpu) + " (" +
                                  std::string(CpuRoleName(role)) + ")",
                              CpuSet::FromList({cpu})});
    }
  }
  const CpuSet& dedicated = roles.DedicatedCpus();
  if (!dedicated.Empty() && !dedicated.Intersects(isolated)) {
    out.push_back(Violation{"nova.conf cpu_dedicated_set", dedicated});
  }
  return out;
}

}  // namespace hostiso
