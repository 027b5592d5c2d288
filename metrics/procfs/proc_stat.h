#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// One "cpuN" line of /proc/stat, in USER_HZ ticks. Columns the kernel did not
// print (older kernels) are 0.
struct CpuTicks {
  int cpu = 0;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                softirq = 0, steal = 0, guest = 0, guest_nice = 0;
};

// Parses the per-CPU lines of /proc/stat (the aggregate "cpu" line and the
// other statistics are skipped). Offline CPUs have no line. Errors name the
// line number and what was expected; a file without any per-CPU line, or
// with one CPU twice, is an error.
Expected<std::vector<CpuTicks>> ParseProcStat(std::string_view text);

// Consumers of a CPU's time, as in hostiso_cpu_seconds_total.
struct CpuConsumerTicks {
  double host = 0, guest = 0, steal = 0, idle = 0;
};

// host = user+nice-guest-guest_nice+system+irq+softirq, guest =
// guest+guest_nice (clamped to user+nice, where the kernel counts it), steal,
// idle = idle+iowait. The four always add up to the CPU's time.
CpuConsumerTicks SplitByConsumer(const CpuTicks& t);

}  // namespace hostiso
