#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/expected.h"

namespace hostiso {

// PF_KTHREAD (include/linux/sched.h): the task is a kernel thread.
inline constexpr std::uint64_t kPfKthread = 0x00200000;

// The fields of /proc/PID/task/TID/stat the census uses (proc(5); kernel
// fs/proc/array.c do_task_stat). Times are in clock ticks (USER_HZ).
struct TaskStat {
  pid_t pid = 0;
  std::string comm;  // at most 15 bytes in the kernel: no heap allocation (SSO)
  char state = '?';
  pid_t ppid = 0;
  std::uint64_t flags = 0;        // field 9
  std::uint64_t utime = 0;        // field 14
  std::uint64_t stime = 0;        // field 15
  std::uint64_t starttime = 0;    // field 22, ticks after boot
  std::uint64_t vsize_bytes = 0;  // field 23
  std::int64_t rss_pages = 0;     // field 24
  int processor = -1;             // field 39: CPU the task last ran on

  bool KernelThread() const {
    return (flags & kPfKthread) != 0 || ppid == 2 || pid == 2;
  }
};

// Parses one stat line. comm (field 2) may contain spaces and parentheses
// ("(sd-pam) )"): it spans from the first '(' to the LAST ')' of the line,
// since the kernel prints it raw. Errors name the field that is missing or
// malformed.
Expected<TaskStat> ParseTaskStat(std::string_view line);

}  // namespace hostiso
