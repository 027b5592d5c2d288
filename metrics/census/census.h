#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "metrics/census/intrusion_ledger.h"
#include "metrics/cpu_roles.h"
#include "metrics/guest_inventory.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/procfs/task_stat.h"
#include "metrics/violations.h"

namespace hostiso {

// What a thread is, as far as isolation goes.
enum class TaskClass {
  kVcpu,          // a guest's "CPU N/KVM" thread
  kQemuOther,     // any other thread of a QEMU process (emulator, I/O, RCU...)
  kPerCpuKernel,  // a kernel thread allowed on exactly one CPU (ksoftirqd/N,
                  // kworker/N:M)
  kHost,          // everything else, unbound kernel threads included
};
std::string_view TaskClassName(TaskClass cls);

// How the census learns each thread's CPU affinity.
enum class AffinitySource {
  // sched_getaffinity(2) when --path.procfs is the procfs of our own PID
  // namespace (HostPaths::own_pid_namespace: then TIDs name the same threads
  // for the kernel), the status file otherwise (a fixture tree, or a host /proc
  // mounted into a container
  // with its own PID namespace).
  kAuto,
  kSyscall,
  kStatusFile,  // "Cpus_allowed_list:" of /proc/PID/task/TID/status
};

struct CensusOptions {
  HostPaths paths;
  std::size_t top_comms = 10;
  AffinitySource affinity = AffinitySource::kAuto;
  bool keep_examined = false;  // fill CensusResult::examined (tests)
  // Skip the stat reads of a process none of whose threads ran since the
  // previous census (its CPU clock did not move): see ThreadCensus.
  bool skip_idle_processes = true;
  // Total CPU time (ns) of a process, all its threads, dead ones included.
  // Default: clock_gettime(2) on the process' CPU clock, when the affinity
  // comes from sched_getaffinity (same PID namespace); tests inject their own.
  std::function<std::optional<std::uint64_t>(pid_t)> process_runtime;
};

// A thread the census examined closely: its affinity includes a guest-role CPU.
struct CensusTask {
  pid_t pid = 0;
  pid_t tid = 0;
  TaskClass cls = TaskClass::kHost;
  std::string
      comm;  // process name as labelled ("kernel" for per-CPU kernel threads)
  int cpu = -1;  // CPU its time went to this round (single CPU or last seen)
  std::uint64_t delta_ticks =
      0;  // time attributed to `cpu` (0 when not guest-role)
};

// The process name that used most of one guest-role CPU's host time in one
// census round.
struct CpuIntruder {
  int cpu = 0;
  std::string comm;
  std::uint64_t ticks = 0;  // clock ticks this round
};

struct CensusResult {
  std::chrono::steady_clock::time_point finished{};
  double duration_seconds = 0;
  std::uint64_t tasks = 0;       // threads listed whose affinity could be read
  std::uint64_t stat_reads = 0;  // stat files read (the cost beyond the floor)
  std::uint64_t vanished = 0;    // threads or processes that exited mid-walk
  std::uint64_t malformed = 0;   // unparsable stat lines (skipped)
  std::uint64_t idle_processes_skipped =
      0;  // examined from the previous census, no read
  std::uint64_t host_tasks_on_guest_cpus = 0;
  bool isolation_configured = false;
  std::string
      guest_source;  // "libvirt" (inventory) or "procfs" (QEMU found by name)
  // hostiso_intrusion_seconds_total, in clock ticks (ClockTicksPerSecond()).
  std::vector<detail::IntrusionLedger::Series> intrusion;
  // host_task_on_guest_cpu: host threads that used a guest-role CPU this round.
  std::vector<Violation> host_task_violations;
  // By CPU: the top intruder of each guest-role CPU this round (per-CPU
  // kernel threads left out: they belong on every CPU). For the status page.
  std::vector<CpuIntruder> top_intruders;
  std::vector<CensusTask> examined;  // only with CensusOptions::keep_examined
};

// Walks every /proc/PID/task/TID. The cost design: listing the tasks and one
// sched_getaffinity(2) per thread is the floor every census pays; a thread's
// stat file (6x dearer) is read only when its affinity includes a guest-role
// CPU, since only those threads can intrude on a guest or be a guest. Threads
// of QEMU processes the libvirt inventory names are classified without any
// read. On a well-isolated host the census therefore costs about the floor.
//
// Attribution of a thread's CPU time (utime+stime, stat fields 14-15) between
// two censuses:
// - affinity of one CPU: exact, the delta went to that CPU;
// - several CPUs: the delta goes to the CPU the thread was last seen on
//   (stat field 39) when that CPU is guest-role, else nowhere. This is a
//   sample, unbiased over many rounds for long-lived threads (the chance to be
//   last seen on a CPU follows the time spent there), and it never invents
//   intrusion for a thread that in fact stayed on host CPUs, unlike spreading
//   its time over every guest CPU of its affinity.
// - a thread first seen this round counts its whole time if it started after
//   the previous census (its time is all new); otherwise (first census, or a
//   thread whose affinity just moved onto a guest CPU) it is a baseline.
// - time used by threads that exit between two censuses is lost.
//
// Idle processes: a process whose CPU clock (one clock_gettime(2), no file)
// has not moved since the previous census had no thread running meanwhile, so
// its threads' deltas are zero and their classes are those of the previous
// census: none of their stat files is read. On a host where most threads
// sleep (thread pools), this makes even a poorly isolated host cost about the
// floor; processes that ran are read in full.
// Not thread-safe: one census at a time (the census worker).
class ThreadCensus {
 public:
  ThreadCensus(CensusOptions options,
               std::shared_ptr<const GuestInventoryHolder> guests);
  ~ThreadCensus();
  ThreadCensus(const ThreadCensus&) = delete;
  ThreadCensus& operator=(const ThreadCensus&) = delete;

  // Fails only when the procfs root cannot be listed; threads that vanish
  // mid-walk are counted, not errors.
  Expected<CensusResult> Run(const CpuRoles& roles);

  bool UsesSyscallAffinity() const { return use_syscall_; }

 private:
  struct Prev {
    std::uint64_t starttime = 0;
    std::uint64_t ticks = 0;
    TaskClass cls = TaskClass::kHost;
    int single_cpu = -1;
  };
  struct Candidate {
    pid_t tid = 0;
    int single_cpu = -1;  // the only CPU of its affinity, -1 when several
  };
  void BeginRound(const CpuSet& guest_cpus, CensusResult& result);
  bool ListCandidates(int taskfd, bool any_guest, CensusResult& result);
  void WalkProcess(pid_t pid, int procfd, bool any_guest, CensusResult& result);
  // Reads the affinity of `tid` into mask_ (bits by CPU). false when the
  // thread is gone.
  bool ReadAffinity(int task_dirfd, pid_t tid);
  std::optional<TaskStat> ReadStat(int task_dirfd, pid_t tid,
                                   CensusResult& result);
  TaskClass Classify(bool qemu, const Candidate& c, const TaskStat& st) const;
  bool IsGuestCpu(int cpu) const;
  void AccountHostTime(const Candidate& c, const TaskStat& st, TaskClass cls,
                       const std::string& pname, CensusTask& seen,
                       CensusResult& result);
  void ExamineProcess(pid_t pid, int procfd, int task_dirfd,
                      const std::vector<Candidate>& cands,
                      CensusResult& result);

  CensusOptions options_;
  std::shared_ptr<const GuestInventoryHolder> guests_;
  bool use_syscall_ = false;
  std::vector<unsigned long> mask_;  // NOLINT: cpu_set_t's word type
  std::vector<unsigned long> guest_mask_;
  std::unordered_set<pid_t> qemu_pids_, vcpu_tids_;
  // Examined threads by TID, and process CPU clocks by PID (ns), of the
  // previous census and the one running.
  std::unordered_map<pid_t, Prev> prev_, next_;
  std::unordered_map<pid_t, std::uint64_t> prev_runtime_, next_runtime_;
  // Carries an idle process' threads over from the previous census; false
  // when one of them is new or changed (then the process is read).
  bool CarryOverIdle(pid_t pid, const std::vector<Candidate>& cands,
                     CensusResult& result);
  bool has_previous_ = false;
  std::optional<std::uint64_t> previous_uptime_ticks_;
  std::vector<detail::IntrusionLedger::Delta> deltas_;
  std::unordered_map<std::string, CpuSet> intruders_;
  detail::IntrusionLedger ledger_;
  std::vector<char> dirbuf_;
  // Reused by every process of a census (no allocation per process).
  std::vector<pid_t> tids_;
  std::vector<Candidate> cands_;
};

namespace detail {
// "qemu-system-x86_64", "qemu-kvm".
bool IsQemuProcessName(std::string_view comm);
// Per CPU, the process name with the most ticks among `deltas` (per-CPU
// kernel threads left out); by CPU.
std::vector<CpuIntruder> TopIntruders(
    const std::vector<IntrusionLedger::Delta>& deltas);
// Label for a kernel thread that is not per-CPU: the part before '/'
// ("kworker/u8:2-events_unbound" -> "kworker", "irq/45-nvme0q0" -> "irq"),
// keeping the label set small; other names unchanged.
std::string KernelThreadLabel(std::string_view comm);
}  // namespace detail

}  // namespace hostiso
