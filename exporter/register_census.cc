#include <chrono>
#include <memory>

#include "exporter/component_registration.h"
#include "metrics/census/census.h"
#include "metrics/census/census_collector.h"
#include "metrics/census/interrupts.h"

namespace hostiso {

// The thread census (collector "census") and /proc/interrupts (collector
// "interrupts"). The census worker starts here, after main() confined the
// process to host-role CPUs, so its thread inherits that affinity.
//
// --census.interval defaults to 15 s: Prometheus' usual scrape interval, so a
// scrape serves data at most one interval old, while the census costs about
// 0.1 s of one host core per 50,000 threads on a well-isolated host (under 1%
// of a core at 15 s) and runs at SCHED_IDLE anyway. Intrusion counters are
// time accumulated by the kernel, so a longer interval loses no intrusion
// time, only resolution of when it happened (and the time of threads that
// exit between two censuses).
void RegisterCensusCollectors(const Flags& flags, const ComponentDeps& deps,
                              CollectorSet& set) {
  if (flags.collectors.count("census") > 0) {
    CensusOptions options;
    options.procfs = flags.procfs;
    options.top_comms = flags.census_top_comms;
    auto census = std::make_unique<ThreadCensus>(options, deps.guests);
    auto worker = std::make_shared<CensusWorker>(
        std::move(census), deps.isolation, deps.violations,
        std::chrono::duration<double>(flags.census_interval_seconds));
    worker->Start();
    set.collectors.emplace_back(std::make_unique<CensusCollector>(worker));
    set.stoppers.emplace_back([worker] { worker->Stop(); });
  }
  if (flags.collectors.count("interrupts") > 0) {
    set.collectors.push_back(
        std::make_unique<InterruptsCollector>(flags.procfs));
  }
}

}  // namespace hostiso
