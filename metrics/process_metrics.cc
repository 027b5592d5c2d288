#include "metrics/process_metrics.h"

#include <dirent.h>
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "metrics/family_builder.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/procfs/read_file.h"
#include "metrics/procfs/statm.h"
#include "metrics/procfs/task_stat.h"
#include "metrics/text.h"

namespace hostiso {
namespace {

void AppendOne(std::vector<prometheus::MetricFamily>& out, FamilyBuilder f,
               double v) {
  f.Add({}, v);
  std::move(f).AppendTo(out);
}

// Entries of /proc/self/fd, minus the descriptor the listing itself uses.
Expected<std::uint64_t> CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return Error("/proc/self/fd: cannot list");
  std::uint64_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;
}

}  // namespace

Expected<std::optional<std::uint64_t>> ParseMaxOpenFiles(
    std::string_view limits) {
  for (std::string_view line : Split(limits, '\n')) {
    if (!line.starts_with("Max open files")) continue;
    auto f = SplitFields(line.substr(14));
    if (f.empty()) break;
    if (f[0] == "unlimited") return std::optional<std::uint64_t>();
    auto v = ParseUint(f[0]);
    if (!v) break;
    return std::optional<std::uint64_t>(*v);
  }
  return Error("limits: no readable 'Max open files' line");
}

Expected<std::uint64_t> ParseBootTime(std::string_view proc_stat) {
  for (std::string_view line : Split(proc_stat, '\n')) {
    if (!line.starts_with("btime ")) continue;
    if (auto v = ParseUint(TrimSpace(line.substr(6)))) return *v;
    break;
  }
  return Error("no readable 'btime' line");
}

ProcessMetrics::ProcessMetrics() {
  // Due after 30 years of CPU time; SIGURG, ignored by default, should it
  // ever fire. (A SIGEV_NONE timer is not armed, and keeps no running sum.)
  sigevent sev{};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGURG;
  timer_t timer{};
  if (::timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &timer) == 0) {
    itimerspec due{};
    due.it_value.tv_sec = 30L * 365 * 24 * 3600;
    if (::timer_settime(timer, 0, &due, nullptr) == 0) {
      cpu_timer_ = timer;
    } else {
      ::timer_delete(timer);
    }
  }
  auto btime = ReadAndParse("/proc/stat", ParseBootTime);
  auto stat = ReadAndParse("/proc/self/stat", ParseTaskStat);
  if (btime && stat) {
    start_time_seconds_ =
        static_cast<double>(*btime) +
        static_cast<double>(stat->starttime) / ClockTicksPerSecond();
  }
}

ProcessMetrics::~ProcessMetrics() {
  if (cpu_timer_) ::timer_delete(*cpu_timer_);
}

// Not /proc/self/stat: with its whole set of web workers (a thousand
// threads) the exporter made the kernel walk every thread for fields it does
// not use (do_task_stat was a quarter of a scrape's CPU). The CPU clock gives
// the threads' run time in nanoseconds rather than clock ticks, without a
// walk while cpu_timer_ is armed, and statm's counters come from the memory
// map without a walk.
Expected<void> ProcessMetrics::Append(
    std::vector<prometheus::MetricFamily>& out) const {
  timespec cpu{};
  if (::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) != 0)
    return Error(std::string("CLOCK_PROCESS_CPUTIME_ID: ") +
                 std::strerror(errno));
  AppendOne(
      out,
      FamilyBuilder::Counter("process_cpu_seconds_total",
                             "Total user and system CPU time spent in "
                             "seconds."),
      static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9);
  HOSTISO_ASSIGN_OR_RETURN(Statm statm,
                           ReadAndParse("/proc/self/statm", ParseStatm));
  const auto page = static_cast<double>(PageSizeBytes());
  AppendOne(out,
            FamilyBuilder::Gauge("process_resident_memory_bytes",
                                 "Resident memory size in bytes."),
            static_cast<double>(statm.resident) * page);
  AppendOne(out,
            FamilyBuilder::Gauge("process_virtual_memory_bytes",
                                 "Virtual memory size in bytes."),
            static_cast<double>(statm.size) * page);
  if (start_time_seconds_) {
    AppendOne(out,
              FamilyBuilder::Gauge("process_start_time_seconds",
                                   "Start time of the process since unix "
                                   "epoch in seconds."),
              *start_time_seconds_);
  }
  HOSTISO_ASSIGN_OR_RETURN(std::uint64_t fds, CountOpenFds());
  AppendOne(out,
            FamilyBuilder::Gauge("process_open_fds",
                                 "Number of open file descriptors."),
            static_cast<double>(fds));
  HOSTISO_ASSIGN_OR_RETURN(
      std::optional<std::uint64_t> max_fds,
      ReadAndParse("/proc/self/limits", ParseMaxOpenFiles));
  if (max_fds) {
    AppendOne(out,
              FamilyBuilder::Gauge("process_max_fds",
                                   "Maximum number of open file descriptors."),
              static_cast<double>(*max_fds));
  }
  return Ok();
}

}  // namespace hostiso
