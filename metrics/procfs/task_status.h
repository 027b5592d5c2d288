#pragma once

#include <string_view>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"

namespace hostiso {

// "Cpus_allowed_list:" of /proc/PID/task/TID/status (fs/proc/array.c
// task_cpus_allowed): the thread's CPU affinity as the kernel applies it. The
// fallback for sched_getaffinity(2) when the procfs read belongs to another
// PID namespace (a fixture tree, a host /proc mounted into a container).
Expected<CpuSet> ParseCpusAllowedList(std::string_view status);

// "Mems_allowed_list:" of /proc/PID/status (kernel/cgroup/cpuset.c
// cpuset_task_status_allowed): the NUMA nodes the task may allocate memory
// on, as its cpuset (libvirt's <numatune> in strict mode) restricts them. A
// node list has the CPU list syntax ("0-1,3"). The exporter never reads
// numa_maps or smaps.
Expected<CpuSet> ParseMemsAllowedList(std::string_view status);

}  // namespace hostiso
