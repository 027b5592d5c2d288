#pragma once

#include <string>

#include "metrics/cpu_set.h"

namespace hostiso {

// Restricts every thread of this process to `cpus` (sched_setaffinity on each
// /proc/self/task/TID), so the exporter never runs on a guest-role CPU. Threads
// started later inherit the mask of their creator. Returns false with `error`
// set when the kernel refused (e.g. a cpuset that excludes those CPUs).
bool ConfineProcessToCpus(const CpuSet& cpus, std::string* error);

}  // namespace hostiso
