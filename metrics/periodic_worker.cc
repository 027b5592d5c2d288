#include "metrics/periodic_worker.h"

#include "metrics/log.h"

namespace hostiso {

struct PeriodicWorker::State {
  Step step;
  Clock::duration min_gap;
  mutable Mutex mu;
  mutable CondVar cv;
  bool stop GUARDED_BY(mu) = false;
  bool trigger GUARDED_BY(mu) = false;
  bool exited GUARDED_BY(mu) = false;
  std::uint64_t steps GUARDED_BY(mu) = 0;
};

PeriodicWorker::PeriodicWorker(std::string name, Step step,
                               Clock::duration min_gap)
    : name_(std::move(name)), state_(std::make_shared<State>()) {
  state_->step = std::move(step);
  state_->min_gap = min_gap;
}

PeriodicWorker::~PeriodicWorker() { Stop(); }

void PeriodicWorker::Start(std::function<void()> before_first_step) {
  if (thread_.joinable()) return;
  {
    MutexLock lock(state_->mu);
    state_->stop = false;
    state_->exited = false;
  }
  thread_ =
      std::thread(&PeriodicWorker::Loop, state_, std::move(before_first_step));
}

void PeriodicWorker::Loop(const std::shared_ptr<State>& s,
                          const std::function<void()>& before_first_step) {
  if (before_first_step) before_first_step();
  while (true) {
    const Clock::time_point started = Clock::now();
    {
      MutexLock lock(s->mu);
      if (s->stop) break;
      s->trigger = false;
    }
    Clock::duration wait = s->step();
    MutexLock lock(s->mu);
    ++s->steps;
    s->cv.notify_all();
    const Clock::time_point next = started + wait;
    const Clock::time_point earliest = started + s->min_gap;
    // Wake on stop, on the schedule, or on a trigger once min_gap has passed.
    while (!s->stop) {
      const Clock::time_point now = Clock::now();
      if (now >= next || (s->trigger && now >= earliest)) break;
      s->cv.wait_until(s->mu, s->trigger ? earliest : next);
    }
    if (s->stop) break;
  }
  MutexLock lock(s->mu);
  s->exited = true;
  s->cv.notify_all();
}

bool PeriodicWorker::Stop(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return true;
  bool ended = false;
  {
    MutexLock lock(state_->mu);
    state_->stop = true;
    state_->cv.notify_all();
    const Clock::time_point deadline = Clock::now() + grace;
    while (!state_->exited && Clock::now() < deadline)
      state_->cv.wait_until(state_->mu, deadline);
    ended = state_->exited;
  }
  if (ended) {
    thread_.join();
    return true;
  }
  log::Warn("worker did not stop in time; leaving it behind",
            {{"worker", name_}});
  thread_.detach();
  return false;
}

void PeriodicWorker::Trigger() {
  MutexLock lock(state_->mu);
  state_->trigger = true;
  state_->cv.notify_all();
}

std::function<void()> PeriodicWorker::TriggerHandle() const {
  // A weak reference: the step often owns the object that keeps this handle
  // (the libvirt worker's core), and a strong one would make a cycle that
  // never frees either.
  return [weak = std::weak_ptr<State>(state_)] {
    const std::shared_ptr<State> state = weak.lock();
    if (!state) return;
    MutexLock lock(state->mu);
    state->trigger = true;
    state->cv.notify_all();
  };
}

std::uint64_t PeriodicWorker::Steps() const {
  MutexLock lock(state_->mu);
  return state_->steps;
}

bool PeriodicWorker::WaitForSteps(std::uint64_t steps,
                                  std::chrono::milliseconds timeout) const {
  MutexLock lock(state_->mu);
  const Clock::time_point deadline = Clock::now() + timeout;
  while (state_->steps <= steps) {
    if (Clock::now() >= deadline) return false;
    state_->cv.wait_until(state_->mu, deadline);
  }
  return true;
}

}  // namespace hostiso
