#pragma once

#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/cpu_set.h"

namespace hostiso {

// The violation kinds of the metric contract, in exposition order.
enum class ViolationKind {
  kVcpuOnHostCpu,
  kEmulatorOnHostCpu,
  kDedicatedCpuShared,
  kHostTaskOnGuestCpu,
  kIrqOnGuestCpu,
  kIsolcpusMismatch,
  kCpuOvercommit,
  kRamOvercommit,
  kMemoryReserveBreach,
  kDiskReserveBreach,
  kDiskLayout,
};
inline constexpr std::size_t kViolationKindCount = 11;
std::string_view ViolationKindName(ViolationKind kind);

// One subject violating now: "instance-00000001 vcpu 3", "comm ovs-vswitchd".
struct Violation {
  std::string subject;
  CpuSet cpus;
};

// Holds the subjects violating now, per kind, and counts onsets. Each kind has
// one detector, which replaces the kind's whole set on every evaluation (a
// scrape, a census or a libvirt refresh). Thread-safe.
class ViolationRegistry {
 public:
  void Report(ViolationKind kind, std::vector<Violation> now);
  // Appends hostiso_violating_subjects, hostiso_violations_total and
  // hostiso_violation_info (at most `max_info` series, most recent kinds
  // first in contract order).
  void AppendMetrics(std::vector<prometheus::MetricFamily>& out,
                     std::size_t max_info) const;
  // Current subjects of one kind (for tests and the landing page).
  std::vector<Violation> Current(ViolationKind kind) const;
  std::uint64_t Onsets(ViolationKind kind) const;

 private:
  struct KindState {
    std::map<std::string, CpuSet> subjects;
    std::uint64_t onsets = 0;
  };
  mutable std::mutex mu_;
  std::array<KindState, kViolationKindCount> kinds_;
};

}  // namespace hostiso
