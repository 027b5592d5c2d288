#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

struct CpuRunDelay {
  int cpu = 0;
  // rq->rq_sched_info.run_delay: nanoseconds tasks spent runnable, waiting for
  // this CPU (Documentation/scheduler/sched-stats.rst).
  std::uint64_t run_delay_ns = 0;
};

// Parses /proc/schedstat versions 15 to 17. The "cpuN" lines carry 9 numbers;
// the 8th is run_delay. Domain lines are skipped. An unknown version is an
// error (the field order is only defined per version), and so are a CPU
// number of CpuSet::kMaxCpus or more and a CPU listed twice.
Expected<std::vector<CpuRunDelay>> ParseSchedstat(std::string_view text);

}  // namespace hostiso
