#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "metrics/census/census.h"
#include "metrics/collector.h"
#include "metrics/guest_inventory.h"
#include "metrics/isolation_source.h"
#include "metrics/log.h"
#include "metrics/violations.h"

namespace hostiso {

// Runs the ThreadCensus on its own thread every `interval`, at the lowest
// scheduling priority (SCHED_IDLE, or nice 19 where SCHED_IDLE is refused),
// and keeps the last result for scrapes. It inherits the exporter's
// confinement to host-role CPUs from the thread that starts it. Reports the
// host_task_on_guest_cpu violations after each census.
class CensusWorker {
 public:
  CensusWorker(std::unique_ptr<ThreadCensus> census,
               std::shared_ptr<IsolationSource> isolation,
               std::shared_ptr<ViolationRegistry> violations,
               std::chrono::duration<double> interval);
  ~CensusWorker();
  CensusWorker(const CensusWorker&) = delete;
  CensusWorker& operator=(const CensusWorker&) = delete;

  void Start();
  void Stop();
  // Runs one census on the calling thread (tests; Start() not called).
  void RunOnce();
  // The last successful census; null until one finished.
  std::shared_ptr<const CensusResult> Last() const;
  // Whether the most recent census failed (procfs unreadable).
  bool LastFailed() const;
  // What the worker thread got: "SCHED_IDLE", "nice 19" or "" (not started).
  std::string SchedulingPolicy() const;

 private:
  void Loop();
  static std::string LowerOwnPriority();

  std::unique_ptr<ThreadCensus> census_;
  std::shared_ptr<IsolationSource> isolation_;
  std::shared_ptr<ViolationRegistry> violations_;
  std::chrono::duration<double> interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::shared_ptr<const CensusResult> last_;
  bool last_failed_ = false;
  std::string policy_;
  std::thread thread_;
  log::ErrorLatch latch_{"thread census"};
};

// Collector "census": serves the worker's last result (never walks /proc on
// the scrape path): hostiso_census_{age,duration}_seconds,
// hostiso_census_tasks, hostiso_census_stat_reads,
// hostiso_host_tasks_on_guest_cpus and
// hostiso_intrusion_seconds_total{cpu,comm}.
class CensusCollector : public Collector {
 public:
  explicit CensusCollector(std::shared_ptr<CensusWorker> worker)
      : worker_(std::move(worker)) {}
  std::string_view Name() const override { return "census"; }
  bool Collect(const ScrapeContext& ctx,
               std::vector<prometheus::MetricFamily>& out) override;

 private:
  std::shared_ptr<CensusWorker> worker_;
};

}  // namespace hostiso
