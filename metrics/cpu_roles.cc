#include "metrics/cpu_roles.h"

namespace hostiso {

std::string_view CpuRoleName(CpuRole role) {
  switch (role) {
    case CpuRole::kHost:
      return "host";
    case CpuRole::kDedicated:
      return "dedicated";
    case CpuRole::kShared:
      return "shared";
    case CpuRole::kGuest:
      return "guest";
  }
  return "host";
}

std::string_view GuestSetSourceName(GuestSetSource source) {
  switch (source) {
    case GuestSetSource::kNone:
      return "none";
    case GuestSetSource::kNova:
      return "nova";
    case GuestSetSource::kFlag:
      return "flag";
  }
  return "none";
}

GuestCpuSets GuestSetsFromConfig(const std::optional<NovaConfig>& nova,
                                 const std::optional<CpuSet>& flag_guest_cpus) {
  GuestCpuSets sets;
  if (flag_guest_cpus) {
    sets.source = GuestSetSource::kFlag;
    sets.legacy = *flag_guest_cpus;
    return sets;
  }
  if (!nova) return sets;
  if (nova->cpu_dedicated_set ||
      (nova->cpu_shared_set && !nova->vcpu_pin_set)) {
    sets.source = GuestSetSource::kNova;
    sets.dedicated = nova->cpu_dedicated_set.value_or(CpuSet());
    sets.shared = nova->cpu_shared_set.value_or(CpuSet());
  } else if (nova->vcpu_pin_set) {
    sets.source = GuestSetSource::kNova;
    sets.legacy = *nova->vcpu_pin_set;
    // Legacy hosts use cpu_shared_set for emulator threads
    // (hw:emulator_threads_policy=share); those CPUs are shared, not host.
    if (nova->cpu_shared_set)
      sets.shared = nova->cpu_shared_set->Minus(sets.legacy);
  }
  return sets;
}

CpuRoles::CpuRoles(const GuestCpuSets& sets, const CpuSet& cpus)
    : cpus_(cpus), configured_(sets.Configured()) {
  roles_.assign(static_cast<std::size_t>(cpus.End()), CpuRole::kHost);
  for (int cpu : cpus.Members()) {
    // With no guest set at all, every CPU is shared (the metric contract).
    CpuRole role = configured_ ? CpuRole::kHost : CpuRole::kShared;
    if (sets.dedicated.Contains(cpu)) {
      role = CpuRole::kDedicated;
    } else if (sets.legacy.Contains(cpu)) {
      role = CpuRole::kGuest;
    } else if (sets.shared.Contains(cpu)) {
      role = CpuRole::kShared;
    }
    roles_[static_cast<std::size_t>(cpu)] = role;
    switch (role) {
      case CpuRole::kHost:
        host_.Insert(cpu);
        break;
      case CpuRole::kDedicated:
        dedicated_.Insert(cpu);
        guest_.Insert(cpu);
        break;
      case CpuRole::kShared:
        shared_.Insert(cpu);
        guest_.Insert(cpu);
        break;
      case CpuRole::kGuest:
        guest_.Insert(cpu);
        break;
    }
  }
}

CpuRole CpuRoles::RoleOf(int cpu) const {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= roles_.size())
    return CpuRole::kHost;
  return roles_[static_cast<std::size_t>(cpu)];
}

}  // namespace hostiso
