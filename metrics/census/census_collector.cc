#include "metrics/census/census_collector.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "metrics/family_builder.h"

namespace hostiso {

CensusWorker::CensusWorker(std::unique_ptr<ThreadCensus> census,
                           std::shared_ptr<IsolationSource> isolation,
                           std::shared_ptr<ViolationRegistry> violations,
                           std::chrono::duration<double> interval)
    : census_(std::move(census)),
      isolation_(std::move(isolation)),
      violations_(std::move(violations)),
      interval_(interval) {}

CensusWorker::~CensusWorker() { Stop(); }

void CensusWorker::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void CensusWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const CensusResult> CensusWorker::Last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

bool CensusWorker::LastFailed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_failed_;
}

std::string CensusWorker::SchedulingPolicy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policy_;
}

std::string CensusWorker::LowerOwnPriority() {
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

void CensusWorker::RunOnce() {
  auto iso = isolation_->Current();
  CensusResult result = census_->Run(iso->roles);
  if (result.ok) {
    latch_.Ok();
    // Without a guest set there is nothing to intrude on: report nothing.
    violations_->Report(ViolationKind::kHostTaskOnGuestCpu,
                        result.isolation_configured
                            ? result.host_task_violations
                            : std::vector<Violation>{});
  } else {
    latch_.Fail(result.error);
    std::lock_guard<std::mutex> lock(mu_);
    last_failed_ =
        true;  // keep serving the last good census; age tells how old
    return;
  }
  auto shared = std::make_shared<const CensusResult>(std::move(result));
  std::lock_guard<std::mutex> lock(mu_);
  last_ = std::move(shared);
  last_failed_ = false;
}

void CensusWorker::Loop() {
  std::string policy = LowerOwnPriority();
  {
    std::lock_guard<std::mutex> lock(mu_);
    policy_ = policy;
  }
  std::ostringstream interval;
  interval << interval_.count() << "s";
  log::Info(
      "thread census started",
      {{"interval", interval.str()},
       {"priority", policy},
       {"affinity_source",
        census_->UsesSyscallAffinity() ? "sched_getaffinity" : "status file"}});
  while (true) {
    auto next = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    interval_);
    RunOnce();
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, next, [this] { return stop_; })) return;
  }
}

bool CensusCollector::Collect(const ScrapeContext& /*ctx*/,
                              std::vector<prometheus::MetricFamily>& out) {
  std::shared_ptr<const CensusResult> r = worker_->Last();
  const bool failed = worker_->LastFailed();
  if (!r)
    return !failed;  // the first census is still running: nothing to serve yet
  const double hz = ThreadCensus::TicksPerSecond();
  auto age = FamilyBuilder::Gauge("hostiso_census_age_seconds",
                                  "How old the thread census data served is.");
  age.Add({}, std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            r->finished)
                  .count());
  std::move(age).AppendTo(out);
  auto duration =
      FamilyBuilder::Gauge("hostiso_census_duration_seconds",
                           "Wall time the last thread census took.");
  duration.Add({}, r->duration_seconds);
  std::move(duration).AppendTo(out);
  auto tasks = FamilyBuilder::Gauge("hostiso_census_tasks",
                                    "Threads seen by the last census.");
  tasks.Add({}, static_cast<double>(r->tasks));
  std::move(tasks).AppendTo(out);
  auto reads =
      FamilyBuilder::Gauge("hostiso_census_stat_reads",
                           "Thread stat files the last census read (only "
                           "threads allowed on a guest-role CPU).");
  reads.Add({}, static_cast<double>(r->stat_reads));
  std::move(reads).AppendTo(out);
  auto exposure =
      FamilyBuilder::Gauge("hostiso_host_tasks_on_guest_cpus",
                           "Host threads (not a guest's, not per-CPU kernel "
                           "threads) whose affinity includes a "
                           "guest-role CPU.");
  exposure.Add({}, static_cast<double>(r->host_tasks_on_guest_cpus));
  std::move(exposure).AppendTo(out);
  auto intrusion =
      FamilyBuilder::Counter("hostiso_intrusion_seconds_total",
                             "CPU time threads of no guest used on guest-role "
                             "CPUs, by process name (top N, 'other'; "
                             "per-CPU kernel threads as 'kernel').");
  intrusion.Reserve(r->intrusion.size());
  for (const auto& s : r->intrusion) {
    intrusion.Add({{"cpu", std::to_string(s.cpu)}, {"comm", s.comm}},
                  static_cast<double>(s.ticks) / hz);
  }
  std::move(intrusion).AppendTo(out);
  return !failed;
}

}  // namespace hostiso
