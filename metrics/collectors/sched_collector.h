#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "metrics/collector.h"
#include "metrics/cpu_accounting.h"
#include "metrics/guest_inventory.h"
#include "metrics/mutex.h"
#include "metrics/periodic_worker.h"
#include "metrics/sched/sched_bpf.h"
#include "metrics/sched/sched_model.h"

namespace hostiso {

// Scheduler attribution from eBPF (collector "sched"): exact per-CPU time by
// holder class, per-domain vCPU run-queue latency, the vCPU wait attributed
// to what held the CPU, preemptions by class, and host time on guest-role
// CPUs by process name, short-lived threads included.
//
// The programs are loaded once at Start(); where that fails (no privilege, no
// BTF, built without BPF) every scrape reports the reason as the collector's
// error (logged once, success 0) and nothing else changes. A worker copies
// each new guest inventory the libvirt collector publishes into the
// classification maps within a second (vCPU thread -> domain, QEMU pid ->
// domain), and the guest-role CPUs (where intrusion by comm is kept) from the
// isolation source, so both hold before the first scrape.
class SchedCollector : public Collector {
 public:
  using Loader = std::function<Expected<std::unique_ptr<SchedBpf>>()>;
  // The guest-role CPUs as of now (the isolation source's current snapshot).
  using GuestCpus = std::function<CpuSet()>;
  SchedCollector(std::shared_ptr<const GuestInventoryHolder> guests,
                 GuestCpus guest_cpus, std::size_t top_comms,
                 Loader loader = LoadSchedBpf);
  ~SchedCollector() override;
  SchedCollector(const SchedCollector&) = delete;
  SchedCollector& operator=(const SchedCollector&) = delete;

  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;
  void Start() override;
  bool Stop(std::chrono::milliseconds grace) override;
  // Reads, when called, the time vCPU threads held each CPU (the cpu
  // collector's host/guest split; VcpuHeldFeed). An Error while the programs
  // are not loaded. Safe from the scrape thread (takes the state's lock).
  VcpuHeldReader VcpuTimeReader() const;

  struct State;

 private:
  class IterCounterSource;
  // Shared with the worker, which may outlive a Stop() that timed out.
  std::shared_ptr<State> state_;
  // Lent (weakly) to the scrape's GuestSampler once the programs loaded.
  std::shared_ptr<IterCounterSource> vcpu_counters_;
  std::unique_ptr<PeriodicWorker> worker_;
};

}  // namespace hostiso
