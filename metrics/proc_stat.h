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
// line number and what was expected.
Expected<std::vector<CpuTicks>> ParseProcStat(std::string_view text);

// Consumers of a CPU's time, as in hostiso_cpu_seconds_total.
struct CpuConsumerTicks {
  double host = 0, guest = 0, steal = 0, idle = 0;
};

// host = user+nice-guest-guest_nice+system+irq+softirq, floored at 0 (the
// kernel counts guest time inside user/nice, and the two are not read
// atomically); guest = guest+guest_nice; idle = idle+iowait.
CpuConsumerTicks SplitByConsumer(const CpuTicks& t);

}  // namespace hostiso
