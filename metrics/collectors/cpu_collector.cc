#include "metrics/collectors/cpu_collector.h"

#include <cerrno>
#include <utility>

#include "metrics/family_builder.h"
#include "metrics/procfs/proc_stat.h"
#include "metrics/procfs/read_file.h"
#include "metrics/procfs/schedstat.h"

namespace hostiso {

CpuCollector::CpuCollector(const HostPaths& paths,
                           std::shared_ptr<Latest<CpuShares>> shares)
    : stat_path_(paths.Proc("stat")),
      schedstat_path_(paths.Proc("schedstat")),
      shares_(std::move(shares)) {}

void CpuCollector::PublishShares(CpuConsumerSeconds now) {
  const auto at = std::chrono::steady_clock::now();
  if (!previous_.empty()) {
    shares_->Publish(SharesBetween(
        previous_, now,
        std::chrono::duration<double>(at - previous_at_).count()));
  }
  previous_ = std::move(now);
  previous_at_ = at;
}

Expected<void> CpuCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  HOSTISO_RETURN_IF_ERROR(CollectSeconds(ctx.isolation, out));
  return CollectRunqueueWait(out);
}

Expected<void> CpuCollector::CollectSeconds(
    const IsolationSnapshot& isolation,
    std::vector<prometheus::MetricFamily>& out) {
  // In the sysfs fallback this scrape's isolation refresh already read
  // /proc/stat: one read per scrape.
  HOSTISO_ASSIGN_OR_RETURN(std::vector<CpuTicks> ticks,
                           isolation.proc_stat
                               ? *isolation.proc_stat
                               : ReadAndParse(stat_path_, ParseProcStat));
  auto seconds = FamilyBuilder::Counter(
      "hostiso_cpu_seconds_total",
      "CPU time by consumer: host "
      "(user+nice-guest-guest_nice+system+irq+softirq), "
      "guest (guest+guest_nice), steal, idle (idle+iowait). From /proc/stat.");
  seconds.Reserve(ticks.size() * 4);
  consumers_.BeginRound();
  // Division, not multiplication by 1/hz: 1420/100 prints as 14.2.
  const double hz = ClockTicksPerSecond();
  CpuConsumerSeconds now;
  for (const CpuTicks& t : ticks) {
    CpuConsumerTicks c = SplitByConsumer(t);
    auto v = consumers_.Observe(
        t.cpu, {c.host / hz, c.guest / hz, c.steal / hz, c.idle / hz});
    if (shares_) now[t.cpu] = v;
    std::string cpu = std::to_string(t.cpu);
    seconds.Add({{"cpu", cpu}, {"consumer", "host"}}, v[0]);
    seconds.Add({{"cpu", cpu}, {"consumer", "guest"}}, v[1]);
    seconds.Add({{"cpu", cpu}, {"consumer", "steal"}}, v[2]);
    seconds.Add({{"cpu", cpu}, {"consumer", "idle"}}, v[3]);
  }
  std::move(seconds).AppendTo(out);
  if (shares_) PublishShares(std::move(now));
  return Ok();
}

Expected<void> CpuCollector::CollectRunqueueWait(
    std::vector<prometheus::MetricFamily>& out) {
  auto text = ReadFile(schedstat_path_);
  // Absent means CONFIG_SCHEDSTATS is off: nothing to serve, not an error.
  if (!text && text.failure().code() == ENOENT) return Ok();
  if (!text) return text.failure();
  HOSTISO_ASSIGN_OR_RETURN(std::vector<CpuRunDelay> delays,
                           ParseSchedstat(*text).WithContext(schedstat_path_));
  auto wait = FamilyBuilder::Counter("hostiso_cpu_runqueue_wait_seconds_total",
                                     "Time tasks spent runnable, waiting for "
                                     "this CPU (/proc/schedstat run_delay).");
  runqueue_.BeginRound();
  for (const CpuRunDelay& d : delays) {
    auto v =
        runqueue_.Observe(d.cpu, {static_cast<double>(d.run_delay_ns) / 1e9});
    wait.Add({{"cpu", std::to_string(d.cpu)}}, v[0]);
  }
  std::move(wait).AppendTo(out);
  return Ok();
}

}  // namespace hostiso
