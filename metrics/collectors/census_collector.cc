#include "metrics/collectors/census_collector.h"

#include "metrics/family_builder.h"
#include "metrics/procfs/host_paths.h"

namespace hostiso {
namespace {

void AppendCensus(const CensusResult& r, double age_seconds,
                  std::vector<prometheus::MetricFamily>& out) {
  FamilyBuilder::AppendGauge(out, "hostiso_census_age_seconds",
                             "How old the thread census data served is.",
                             age_seconds);
  FamilyBuilder::AppendGauge(out, "hostiso_census_duration_seconds",
                             "Wall time the last thread census took.",
                             r.duration_seconds);
  FamilyBuilder::AppendGauge(out, "hostiso_census_tasks",
                             "Threads seen by the last census.",
                             static_cast<double>(r.tasks));
  FamilyBuilder::AppendGauge(
      out, "hostiso_census_stat_reads",
      "Thread stat files the last census read (only threads allowed "
      "on a guest-role CPU).",
      static_cast<double>(r.stat_reads));
  FamilyBuilder::AppendGauge(
      out, "hostiso_host_tasks_on_guest_cpus",
      "Host threads (not a guest's, not per-CPU kernel threads) whose "
      "affinity includes a guest-role CPU.",
      static_cast<double>(r.host_tasks_on_guest_cpus));
  auto intrusion =
      FamilyBuilder::Counter("hostiso_intrusion_seconds_total",
                             "CPU time threads of no guest used on guest-role "
                             "CPUs, by process name (top N, 'other'; "
                             "per-CPU kernel threads as 'kernel').");
  intrusion.Reserve(r.intrusion.size());
  for (const auto& s : r.intrusion) {
    intrusion.Add({{"cpu", std::to_string(s.cpu)}, {"comm", s.comm}},
                  static_cast<double>(s.ticks) / ClockTicksPerSecond());
  }
  std::move(intrusion).AppendTo(out);
}

}  // namespace

Expected<void> CensusCollector::Collect(
    const ScrapeContext& /*ctx*/, std::vector<prometheus::MetricFamily>& out) {
  const auto last = worker_->Last();
  const bool failed = worker_->LastFailed();
  // The first census may still be running: nothing to serve yet, not an
  // error. After a failed census only the age of the last good one is served:
  // its figures no longer describe the host.
  if (failed) {
    if (last.value) {
      FamilyBuilder::AppendGauge(out, "hostiso_census_age_seconds",
                                 "How old the thread census data served is.",
                                 *last.AgeSeconds());
    }
    return Error("the last thread census failed (see its log line)");
  }
  if (last.value) AppendCensus(*last.value, *last.AgeSeconds(), out);
  return Ok();
}

}  // namespace hostiso
