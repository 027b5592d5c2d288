#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/nova_config.h"

namespace hostiso {

enum class CpuRole { kHost, kDedicated, kShared, kGuest };
std::string_view CpuRoleName(CpuRole role);

// Where the guest CPU sets came from (hostiso_config_info{source}).
enum class GuestSetSource { kNone, kNova, kFlag };
std::string_view GuestSetSourceName(GuestSetSource source);

// The guest CPU sets as configured, before looking at what is online.
struct GuestCpuSets {
  GuestSetSource source = GuestSetSource::kNone;
  CpuSet dedicated;  // [compute] cpu_dedicated_set
  CpuSet shared;     // [compute] cpu_shared_set
  CpuSet
      legacy;  // [DEFAULT] vcpu_pin_set or --isolation.guest-cpus: role "guest"
  bool Configured() const { return source != GuestSetSource::kNone; }
};

// Nova's rules (nova/virt/hardware.py
// get_cpu_dedicated_set/get_cpu_shared_set): cpu_dedicated_set/cpu_shared_set
// when either is set; otherwise the legacy vcpu_pin_set, where pinned and
// floating guests share the same CPUs. With only cpu_shared_set and
// vcpu_pin_set, vcpu_pin_set still holds the guests. The --isolation.guest-cpus
// flag, when given, wins over nova.conf.
GuestCpuSets GuestSetsFromConfig(const std::optional<NovaConfig>& nova,
                                 const std::optional<CpuSet>& flag_guest_cpus);

// Per-CPU roles for every CPU in `cpus`. With no guest set configured every
// CPU is shared (the metric contract); otherwise CPUs in no guest set are host.
class CpuRoles {
 public:
  CpuRoles() = default;
  CpuRoles(const GuestCpuSets& sets, const CpuSet& cpus);

  CpuRole RoleOf(int cpu) const;
  const CpuSet& Cpus() const { return cpus_; }
  const CpuSet& HostCpus() const { return host_; }
  // Every CPU a guest may use: dedicated, shared and legacy guest CPUs.
  const CpuSet& GuestCpus() const { return guest_; }
  const CpuSet& DedicatedCpus() const { return dedicated_; }
  const CpuSet& SharedCpus() const { return shared_; }
  bool IsolationConfigured() const { return configured_; }

 private:
  CpuSet cpus_, host_, guest_, dedicated_, shared_;
  std::vector<CpuRole> roles_;
  bool configured_ = false;
};

}  // namespace hostiso
