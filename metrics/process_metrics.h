#pragma once

#include <prometheus/metric_family.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// The standard process metrics of Prometheus client libraries, for the
// exporter itself (always this process's own /proc/self, whatever
// --path.procfs says): process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds. Families
// whose file cannot be read are left out and the error returned.
class ProcessMetrics {
 public:
  // Reads the start time once: it never changes. Arms the CPU-time timer
  // below.
  ProcessMetrics();
  ~ProcessMetrics();
  ProcessMetrics(const ProcessMetrics&) = delete;
  ProcessMetrics& operator=(const ProcessMetrics&) = delete;
  Expected<void> Append(std::vector<prometheus::MetricFamily>& out) const;

 private:
  std::optional<double> start_time_seconds_;
  // A process CPU-time timer that never fires, armed so that the kernel
  // keeps the process's CPU time as one running sum: without one, each read
  // of CLOCK_PROCESS_CPUTIME_ID walks every thread (thread_group_cputime,
  // kernel/sched/cputime.c), which with the 1,024 web workers was a quarter
  // of a sched-only scrape's CPU. With one armed, the read returns the
  // group timer's atomic sum (cpu_clock_sample_group,
  // kernel/time/posix-cpu-timers.c). Unset when timer_create fails (then the
  // read walks, as before).
  std::optional<timer_t> cpu_timer_;
};

// "Max open files" soft limit of /proc/PID/limits; nullopt for "unlimited".
Expected<std::optional<std::uint64_t>> ParseMaxOpenFiles(
    std::string_view limits);
// "btime" of /proc/stat: boot time, seconds since the epoch.
Expected<std::uint64_t> ParseBootTime(std::string_view proc_stat);

}  // namespace hostiso
