#include "metrics/collectors/cpu_collector.h"

#include <cerrno>
#include <utility>

#include "metrics/family_builder.h"
#include "metrics/procfs/proc_stat.h"
#include "metrics/procfs/read_file.h"
#include "metrics/procfs/schedstat.h"

namespace hostiso {

CpuCollector::CpuCollector(const HostPaths& paths,
                           std::shared_ptr<Latest<CpuShares>> shares,
                           std::shared_ptr<const GuestInventoryHolder> guests,
                           std::shared_ptr<const VcpuHeldFeed> sched)
    : stat_path_(paths.Proc("stat")),
      schedstat_path_(paths.Proc("schedstat")),
      shares_(std::move(shares)),
      guests_(std::move(guests)),
      sched_(std::move(sched)) {}

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
  HOSTISO_RETURN_IF_ERROR(CollectSeconds(ctx, out));
  return CollectRunqueueWait(ctx.families, out);
}

std::vector<std::uint64_t> CpuCollector::VcpuRunPerCpu(
    const ScrapeContext& ctx) {
  std::vector<PinnedVcpuRun> runs;
  if (guests_) {
    // The sample the libvirt and memory collectors share: each vCPU's
    // /proc/PID/task/TID/schedstat is read once per scrape.
    const GuestSample& sample = ctx.guests.Sample(guests_->Current());
    for (std::size_t d = 0; d < sample.domains.size(); ++d) {
      const GuestDomain& domain = sample.inventory->domains[d];
      const DomainSample& ds = sample.domains[d];
      if (!ds.running) continue;
      for (std::size_t i = 0; i < ds.vcpus.size(); ++i) {
        const GuestVcpu& v = domain.vcpus[i];
        // Only a vCPU pinned to one CPU ran there and nowhere else. A
        // floating vCPU's schedstat is one total over every CPU it visited;
        // the CPU it last ran on says nothing about where the rest ran, so
        // its time is attributed to no CPU.
        if (v.affinity.Count() != 1 || !ds.vcpus[i].run_ns) continue;
        runs.push_back({v.tid, ds.vcpus[i].cpu, *ds.vcpus[i].run_ns});
      }
    }
  }
  return vcpu_runs_.Advance(runs);
}

std::vector<std::optional<std::uint64_t>> CpuCollector::SchedVcpuPerCpu() {
  if (!sched_ || !sched_->read) return {};
  auto held = sched_->read();
  if (!held) {
    // The sched collector reports its own failure; this CPU split falls
    // back to /proc/stat and the vCPU threads until it reads again.
    sched_vcpu_.Reset();
    return {};
  }
  return sched_vcpu_.Advance(*held);
}

Expected<void> CpuCollector::CollectSeconds(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  // In the sysfs fallback this scrape's isolation refresh already read
  // /proc/stat: one read per scrape.
  HOSTISO_ASSIGN_OR_RETURN(std::vector<CpuTicks> ticks,
                           ctx.isolation.proc_stat
                               ? *ctx.isolation.proc_stat
                               : ReadAndParse(stat_path_, ParseProcStat));
  const std::vector<std::uint64_t> vcpu_run_ns = VcpuRunPerCpu(ctx);
  const std::vector<std::optional<std::uint64_t>> sched_vcpu_ns =
      SchedVcpuPerCpu();
  auto seconds = FamilyBuilder::Counter(
      "hostiso_cpu_seconds_total",
      "CPU time by consumer: host "
      "(user+nice-guest-guest_nice+system+irq+softirq), "
      "guest (guest+guest_nice), steal, idle (idle+iowait). From /proc/stat; "
      "host/guest split by the vCPU threads' time where "
      "hostiso_cpu_accounting_source says vcpu_threads or sched.",
      ctx.families);
  auto sources = FamilyBuilder::Gauge(
      "hostiso_cpu_accounting_source",
      "Where the CPU's host/guest split comes from: proc_stat (its guest "
      "column), vcpu_threads (schedstat of the vCPU threads pinned there, "
      "when the guest column misses their time: nested KVM, TCG) or sched "
      "(the time vCPU threads held it, measured by the sched collector).",
      ctx.families);
  seconds.Reserve(ticks.size() * 4);
  sources.Reserve(ticks.size());
  // Division, not multiplication by 1/hz: 1420/100 prints as 14.2.
  const double hz = ClockTicksPerSecond();
  CpuConsumerSeconds now;
  for (const CpuTicks& t : ticks) {
    const auto index = static_cast<std::size_t>(t.cpu);
    if (accounts_.size() <= index) accounts_.resize(index + 1);
    CpuAccount& account = accounts_[index];
    const CpuConsumerTicks c = SplitByConsumer(t);
    const double run_ns = index < vcpu_run_ns.size()
                              ? static_cast<double>(vcpu_run_ns[index])
                              : 0.0;
    std::optional<double> sched_ticks;
    if (index < sched_vcpu_ns.size() && sched_vcpu_ns[index])
      sched_ticks = static_cast<double>(*sched_vcpu_ns[index]) * hz / 1e9;
    AdvanceCpuAccount(account, {c.host, c.guest, c.steal, c.idle},
                      run_ns * hz / 1e9, sched_ticks);
    const ConsumerTicks& v = account.published;
    if (shares_) {
      now[t.cpu] = {v[kHost] / hz, v[kGuest] / hz, v[kSteal] / hz,
                    v[kIdle] / hz};
    }
    std::string cpu = std::to_string(t.cpu);
    seconds.Add({{"cpu", cpu}, {"consumer", "host"}}, v[kHost] / hz);
    seconds.Add({{"cpu", cpu}, {"consumer", "guest"}}, v[kGuest] / hz);
    seconds.Add({{"cpu", cpu}, {"consumer", "steal"}}, v[kSteal] / hz);
    seconds.Add({{"cpu", cpu}, {"consumer", "idle"}}, v[kIdle] / hz);
    sources.Add(
        {{"cpu", cpu}, {"source", AccountingSourceName(account.source)}}, 1);
  }
  std::move(seconds).AppendTo(out);
  std::move(sources).AppendTo(out);
  if (shares_) PublishShares(std::move(now));
  return Ok();
}

Expected<void> CpuCollector::CollectRunqueueWait(
    FamilyPool* pool, std::vector<prometheus::MetricFamily>& out) {
  auto text = ReadFile(schedstat_path_);
  // Absent means CONFIG_SCHEDSTATS is off: nothing to serve, not an error.
  if (!text && text.failure().code() == ENOENT) return Ok();
  if (!text) return text.failure();
  HOSTISO_ASSIGN_OR_RETURN(std::vector<CpuRunDelay> delays,
                           ParseSchedstat(*text).WithContext(schedstat_path_));
  auto wait = FamilyBuilder::Counter("hostiso_cpu_runqueue_wait_seconds_total",
                                     "Time tasks spent runnable, waiting for "
                                     "this CPU (/proc/schedstat run_delay).",
                                     pool);
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
