#pragma once

#include <string>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"

namespace hostiso {

// CPU sets the kernel publishes under /sys/devices/system/cpu.
struct CpuTopology {
  CpuSet present;
  CpuSet online;
  CpuSet isolated;   // isolcpus, as the kernel applied it
  CpuSet nohz_full;  // empty when the file is absent or "(null)"
  bool has_isolated_file = false;
};

// Reads present, online, isolated and nohz_full under `sysfs_root`
// (devices/system/cpu/...). present and online are required; isolated and
// nohz_full are optional (older kernels, non-NO_HZ_FULL builds).
Expected<CpuTopology> ReadCpuTopology(const std::string& sysfs_root);

}  // namespace hostiso
