#include "metrics/census/census_worker.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hostiso {

namespace detail {

const char* LowerOwnPriority() {
  // sched_setscheduler(2) with pid 0 changes the calling thread only (Linux
  // schedules threads, not processes). SCHED_IDLE runs only when a CPU has
  // nothing else to do: the census never competes with host services.
  struct sched_param param {};
  param.sched_priority = 0;
  if (::sched_setscheduler(0, SCHED_IDLE, &param) == 0) return "SCHED_IDLE";
  std::string why = std::strerror(errno);
  // setpriority(PRIO_PROCESS, tid) also acts on one thread on Linux.
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (::setpriority(PRIO_PROCESS, tid, 19) == 0) {
    log::Warn("census thread: SCHED_IDLE refused, using nice 19",
              {{"err", why}});
    return "nice 19";
  }
  log::Warn("census thread: could not lower its priority",
            {{"err", std::string(std::strerror(errno))}});
  return "unchanged";
}

}  // namespace detail

CensusWorker::CensusWorker(std::unique_ptr<ThreadCensus> census,
                           std::shared_ptr<IsolationSource> isolation,
                           std::shared_ptr<ViolationRegistry> violations,
                           std::chrono::duration<double> interval)
    : census_(std::move(census)),
      isolation_(std::move(isolation)),
      violations_(std::move(violations)),
      interval_(interval),
      worker_("census", [this] {
        RunOnce();
        return std::chrono::duration_cast<PeriodicWorker::Clock::duration>(
            interval_);
      }) {}

void CensusWorker::Start() {
  worker_.Start([this] {
    const char* policy = detail::LowerOwnPriority();
    policy_.store(policy);
    log::Info("thread census started",
              {{"interval", std::to_string(interval_.count()) + "s"},
               {"priority", policy},
               {"affinity_source", census_->UsesSyscallAffinity()
                                       ? "sched_getaffinity"
                                       : "status file"}});
  });
}

bool CensusWorker::Stop(std::chrono::milliseconds grace) {
  return worker_.Stop(grace);
}

bool CensusWorker::LastFailed() const { return last_failed_.load(); }

void CensusWorker::RunOnce() {
  auto iso = isolation_->Current();
  Expected<CensusResult> result = census_->Run(iso->roles);
  if (!result) {
    // Keep serving the last good census; its age says how old it is, and the
    // violation registry expires its subjects.
    latch_.Fail(result.error());
    last_failed_.store(true);
    return;
  }
  latch_.Ok();
  // Without a guest set there is nothing to intrude on: report nothing.
  violations_->Report(ViolationKind::kHostTaskOnGuestCpu,
                      result->isolation_configured
                          ? result->host_task_violations
                          : std::vector<Violation>{});
  last_.Publish(std::move(result).value());
  last_failed_.store(false);
}

}  // namespace hostiso
