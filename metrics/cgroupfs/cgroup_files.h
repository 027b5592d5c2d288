#pragma once

#include <cstdint>
#include <string_view>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"

namespace hostiso {

// Pure parsers of the cgroup files the cgroup collector reads, one per file
// shape (cgroupfs/cgroup_reader.h reads them).

// A cpuset list file: v2 `cpuset.cpus.effective`, v1 `cpuset.effective_cpus`
// and `cpuset.cpus`. The kernel writes a CPU list ("0-3,8") and a newline;
// an empty list (a v1 cpuset nobody configured yet) is the empty set.
Expected<CpuSet> ParseCgroupCpuset(std::string_view text);

// v2 `cpu.stat`: "key value" lines; returns `usage_usec` (microseconds of
// CPU time of every task in the cgroup and its descendants). A missing or
// non-numeric usage_usec is an error; other keys are ignored (the kernel adds
// keys over time: user_usec, nr_throttled, core_sched.force_idle_usec...).
Expected<std::uint64_t> ParseCgroupCpuStatUsageUsec(std::string_view text);

// v1 `cpuacct.usage`: one decimal number of nanoseconds and a newline.
Expected<std::uint64_t> ParseCpuacctUsageNs(std::string_view text);

}  // namespace hostiso
