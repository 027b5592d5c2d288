#include "metrics/collectors/cpu_collector.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "metrics/family_builder.h"
#include "metrics/file_reader.h"
#include "metrics/proc_stat.h"
#include "metrics/schedstat.h"

namespace hostiso {

CpuCollector::CpuCollector(const std::string& procfs)
    : stat_path_(JoinPath(procfs, "stat")),
      schedstat_path_(JoinPath(procfs, "schedstat")) {
  // /proc/stat is in USER_HZ ticks, which is what sysconf(_SC_CLK_TCK) reports.
  long hz = ::sysconf(_SC_CLK_TCK);
  ticks_per_second_ = static_cast<double>(hz > 0 ? hz : 100);
}

bool CpuCollector::Collect(const ScrapeContext& /*ctx*/,
                           std::vector<prometheus::MetricFamily>& out) {
  auto text = ReadFile(stat_path_);
  Expected<std::vector<CpuTicks>> parsed =
      text ? ParseProcStat(*text)
           : Expected<std::vector<CpuTicks>>::Error(text.error());
  if (!parsed) {
    stat_latch_.Fail(parsed.error());
    return false;
  }
  stat_latch_.Ok();

  auto seconds = FamilyBuilder::Counter(
      "hostiso_cpu_seconds_total",
      "CPU time by consumer: host "
      "(user+nice-guest-guest_nice+system+irq+softirq), "
      "guest (guest+guest_nice), steal, idle (idle+iowait). From /proc/stat.");
  seconds.Reserve(parsed->size() * 4);
  consumers_.BeginRound();
  for (const CpuTicks& t : *parsed) {
    CpuConsumerTicks c = SplitByConsumer(t);
    auto v = consumers_.Observe(
        t.cpu, {c.host / ticks_per_second_, c.guest / ticks_per_second_,
                c.steal / ticks_per_second_, c.idle / ticks_per_second_});
    std::string cpu = std::to_string(t.cpu);
    seconds.Add({{"cpu", cpu}, {"consumer", "host"}}, v[0]);
    seconds.Add({{"cpu", cpu}, {"consumer", "guest"}}, v[1]);
    seconds.Add({{"cpu", cpu}, {"consumer", "steal"}}, v[2]);
    seconds.Add({{"cpu", cpu}, {"consumer", "idle"}}, v[3]);
  }
  std::move(seconds).AppendTo(out);

  // /proc/schedstat is optional: absent means CONFIG_SCHEDSTATS is off.
  if (::access(schedstat_path_.c_str(), F_OK) != 0) return true;
  auto sched_text = ReadFile(schedstat_path_);
  Expected<std::vector<CpuRunDelay>> delays =
      sched_text
          ? ParseSchedstat(*sched_text)
          : Expected<std::vector<CpuRunDelay>>::Error(sched_text.error());
  if (!delays) {
    schedstat_latch_.Fail(delays.error());
    return false;
  }
  schedstat_latch_.Ok();
  auto wait = FamilyBuilder::Counter("hostiso_cpu_runqueue_wait_seconds_total",
                                     "Time tasks spent runnable, waiting for "
                                     "this CPU (/proc/schedstat run_delay).");
  runqueue_.BeginRound();
  for (const CpuRunDelay& d : *delays) {
    auto v =
        runqueue_.Observe(d.cpu, {static_cast<double>(d.run_delay_ns) / 1e9});
    wait.Add({{"cpu", std::to_string(d.cpu)}}, v[0]);
  }
  std::move(wait).AppendTo(out);
  return true;
}

}  // namespace hostiso
