#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "metrics/mutex.h"

namespace hostiso {

// The one worker shape for slow sources (libvirt, the thread census, disk
// measurement, the isolation configuration): a thread that runs `step`, waits
// the delay the step returns, and runs it again, earlier when Trigger() is
// called (never sooner than `min_gap` after the previous start). Results go
// out through a Latest<T> the step publishes to; scrapes never wait on it.
//
// Stop() asks the thread to end and waits at most `grace`: a step stuck in a
// system call (statvfs on a dead NFS server, a read that never returns) is
// left behind detached, holding only shared state, so shutdown stays bounded.
class PeriodicWorker {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs one refresh; returns how long to wait before the next one.
  using Step = std::function<Clock::duration()>;

  PeriodicWorker(std::string name, Step step,
                 Clock::duration min_gap = Clock::duration::zero());
  ~PeriodicWorker();
  PeriodicWorker(const PeriodicWorker&) = delete;
  PeriodicWorker& operator=(const PeriodicWorker&) = delete;

  // `before_first_step` runs on the worker thread first (e.g. lowering its
  // priority).
  void Start(std::function<void()> before_first_step = nullptr);
  // true when the thread ended within `grace` (or never started).
  bool Stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
  // Runs the step soon (on a signal, an event, a changed input).
  void Trigger();
  // The same, as a callable that stays safe after the worker is gone (for
  // callbacks a library may still run late, such as libvirt's events): it
  // holds the worker's state weakly and does nothing once it is gone.
  std::function<void()> TriggerHandle() const;
  // Steps finished so far (tests wait on it).
  std::uint64_t Steps() const;
  // Waits until more than `steps` steps finished; false on timeout.
  bool WaitForSteps(std::uint64_t steps,
                    std::chrono::milliseconds timeout) const;
  const std::string& Name() const { return name_; }

 private:
  struct State;
  static void Loop(const std::shared_ptr<State>& state,
                   const std::function<void()>& before_first_step);

  std::string name_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace hostiso
