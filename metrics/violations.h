#pragma once

#include <prometheus/metric_family.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/mutex.h"

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
  kSmtSiblingShared,
  kNumaMisplacement,
  kHostSliceOnGuestCpu,
  // A project addition (docs/metrics.md), proposed for the contract.
  kMachineSliceOnHostCpu,
};
inline constexpr std::size_t kViolationKindCount = 15;
std::string_view ViolationKindName(ViolationKind kind);

// One subject violating now: "instance-00000001 vcpu 3", "comm ovs-vswitchd".
struct Violation {
  std::string subject;
  CpuSet cpus;
};

// Holds the subjects violating now, per kind, and counts onsets. Each kind has
// one detector, which replaces the kind's whole set on every evaluation (a
// scrape, a census or a libvirt refresh). Thread-safe.
//
// The stale-violation policy, the same for every kind: a detector that cannot
// evaluate (its input unreadable, its source down) reports nothing, and its
// collector's success is 0. Its subjects are then kept for at most the kind's
// max age (default 60 s, longer for kinds whose source refreshes slowly, e.g.
// three libvirt refresh intervals), so a transient read error does not make
// violations flap, and then they disappear rather than being reported on
// data that no longer describes the host.
class ViolationRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kDefaultMaxAge{60};

  void Report(ViolationKind kind, std::vector<Violation> now,
              Clock::time_point at = Clock::now());
  void SetMaxAge(ViolationKind kind, std::chrono::duration<double> max_age);
  // Drops the subjects of kinds not reported within their max age (called at
  // every scrape, before AppendMetrics).
  void ExpireStale(Clock::time_point now = Clock::now());
  // Appends hostiso_violating_subjects, hostiso_violations_total and
  // hostiso_violation_info (at most `max_info` series, most recent kinds
  // first in contract order).
  void AppendMetrics(std::vector<prometheus::MetricFamily>& out,
                     std::size_t max_info) const;
  // Current subjects of one kind (for tests and the status page).
  std::vector<Violation> Current(ViolationKind kind) const;
  std::uint64_t Onsets(ViolationKind kind) const;

 private:
  struct KindState {
    std::map<std::string, CpuSet> subjects;
    std::uint64_t onsets = 0;
    Clock::time_point last_report{};
    std::chrono::duration<double> max_age = kDefaultMaxAge;
  };
  mutable Mutex mu_;
  std::array<KindState, kViolationKindCount> kinds_ GUARDED_BY(mu_);
};

}  // namespace hostiso
