#pragma once

#include <cstdint>
#include <string>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"
#include "metrics/isolation_source.h"

namespace hostiso {

// Restricts every thread of this process to `cpus` (sched_setaffinity on each
// /proc/self/task/TID), so the exporter never runs on a guest-role CPU. Threads
// started later inherit the mask of their creator. An error when the kernel
// refused (e.g. a cpuset that excludes those CPUs).
Expected<void> ConfineProcessToCpus(const CpuSet& cpus);

// Keeps the exporter's threads on host-role CPUs, re-applying when the roles
// change (nova.conf edited): the exporter must not itself run on guest cores.
// No-op when no guest set is known or no host CPU is left (then there is
// nowhere better to run). Called by the isolation worker after each reload.
class SelfConfinement {
 public:
  explicit SelfConfinement(bool enabled) : enabled_(enabled) {}
  void Apply(const IsolationSnapshot& iso);

 private:
  bool enabled_;
  std::uint64_t applied_generation_ = ~std::uint64_t{0};
};

}  // namespace hostiso
