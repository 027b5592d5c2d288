#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "metrics/census/census.h"
#include "metrics/isolation_source.h"
#include "metrics/latest.h"
#include "metrics/log.h"
#include "metrics/periodic_worker.h"
#include "metrics/violations.h"

namespace hostiso {

// Runs the ThreadCensus on a PeriodicWorker every `interval`, at the lowest
// scheduling priority (SCHED_IDLE, or nice 19 where SCHED_IDLE is refused),
// with the roles of the isolation snapshot current at each census (so an edit
// of nova.conf reaches it without any scrape). Publishes each successful
// census and reports the host_task_on_guest_cpu violations. Its thread
// inherits the exporter's confinement to host-role CPUs.
class CensusWorker {
 public:
  CensusWorker(std::unique_ptr<ThreadCensus> census,
               std::shared_ptr<IsolationSource> isolation,
               std::shared_ptr<ViolationRegistry> violations,
               std::chrono::duration<double> interval);

  void Start();
  bool Stop(std::chrono::milliseconds grace);
  void Trigger() { worker_.Trigger(); }
  // One census on the calling thread (tests; Start() not called).
  void RunOnce();
  // The last successful census (null until one finished) and its time.
  Latest<CensusResult>::Entry Last() const { return last_.Get(); }
  // Whether the most recent census failed (procfs unreadable).
  bool LastFailed() const;
  double IntervalSeconds() const { return interval_.count(); }
  // What the worker thread got: "SCHED_IDLE", "nice 19", "unchanged", or ""
  // before it started.
  std::string SchedulingPolicy() const { return policy_.load(); }

 private:
  std::unique_ptr<ThreadCensus> census_;
  std::shared_ptr<IsolationSource> isolation_;
  std::shared_ptr<ViolationRegistry> violations_;
  std::chrono::duration<double> interval_;
  Latest<CensusResult> last_;
  std::atomic<bool> last_failed_{false};
  std::atomic<const char*> policy_{""};
  log::ErrorLatch latch_{"thread census"};
  PeriodicWorker worker_;
};

namespace detail {
// Lowers the calling thread to SCHED_IDLE (or nice 19); returns what it got.
const char* LowerOwnPriority();
}  // namespace detail

}  // namespace hostiso
