#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "metrics/cpu_set.h"
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

// /proc/PID/statm: "size resident shared text lib data dt" in pages; returns
// resident pages. (statm is O(1) in the kernel; smaps walks every VMA and is
// never read by this exporter.)
Expected<std::uint64_t> ParseStatmResidentPages(std::string_view text);

// /proc/PID/task/TID/stat field 39 ("processor"): the CPU the task last ran
// on. The comm field (2) may hold spaces and parentheses, so fields are
// counted after the last ')'.
Expected<int> ParseStatProcessor(std::string_view text);

// QEMU names vCPU threads "CPU N/KVM" (or "CPU N/TCG" without KVM): the index,
// or nullopt for any other comm.
std::optional<int> VcpuIndexFromComm(std::string_view comm);

// The libvirt domain name a QEMU command line (/proc/PID/cmdline, NUL
// separated) runs, from "-name guest=NAME,..." (QEMU doubles commas inside
// the value) or the older "-name NAME"; nullopt for anything else, including
// processes whose argv[0] is not a qemu binary.
std::optional<std::string> QemuGuestNameFromCmdline(std::string_view cmdline);

// Scans <procfs>/[0-9]*/cmdline for QEMU processes: domain name -> pid.
std::map<std::string, pid_t> ScanQemuProcesses(const std::string& procfs);

// Threads of `pid` whose comm is "CPU N/KVM": vCPU index -> thread id.
std::map<int, pid_t> FindVcpuThreads(const std::string& procfs, pid_t pid);

// "Cpus_allowed_list:" of <procfs>/PID/task/TID/status: the kernel's affinity
// of the thread.
Expected<CpuSet> ReadTaskAffinity(const std::string& procfs, pid_t pid,
                                  pid_t tid);

// "MemTotal:" of <procfs>/meminfo, in bytes.
Expected<std::uint64_t> ParseMemTotalBytes(std::string_view meminfo);

}  // namespace hostiso
