#pragma once

#include <cstdint>
#include <string_view>

#include "metrics/expected.h"

namespace hostiso {

// /proc/PID/task/TID/schedstat: three numbers (kernel/sched/stats.c
// proc_sched_show_schedstat): time on CPU (ns), time runnable but waiting for
// a CPU (ns: for a vCPU thread, the steal its guest sees) and timeslices.
struct TaskSchedstat {
  std::uint64_t run_ns = 0;
  std::uint64_t delay_ns = 0;
  std::uint64_t timeslices = 0;
};
Expected<TaskSchedstat> ParseTaskSchedstat(std::string_view text);

}  // namespace hostiso
