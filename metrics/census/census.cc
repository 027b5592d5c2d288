#include "metrics/census/census.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <map>

#include "metrics/cpu_set.h"
#include "metrics/log.h"
#include "metrics/procfs/qemu_process.h"
#include "metrics/procfs/read_file.h"
#include "metrics/procfs/task_status.h"
#include "metrics/text.h"

namespace hostiso {

std::string_view TaskClassName(TaskClass cls) {
  switch (cls) {
    case TaskClass::kVcpu:
      return "vcpu";
    case TaskClass::kQemuOther:
      return "qemu_other";
    case TaskClass::kPerCpuKernel:
      return "percpu_kernel";
    case TaskClass::kHost:
      return "host";
  }
  return "host";
}

namespace detail {

std::vector<CpuIntruder> TopIntruders(
    const std::vector<IntrusionLedger::Delta>& deltas) {
  std::map<int, std::map<std::string, std::uint64_t>> by_cpu;
  for (const IntrusionLedger::Delta& d : deltas)
    if (!d.kernel) by_cpu[d.cpu][d.comm] += d.ticks;
  std::vector<CpuIntruder> out;
  for (const auto& [cpu, comms] : by_cpu) {
    CpuIntruder top{cpu, "", 0};
    // Ties go to the first name in byte order: the page stays stable.
    for (const auto& [comm, ticks] : comms)
      if (ticks > top.ticks) top = CpuIntruder{cpu, comm, ticks};
    out.push_back(std::move(top));
  }
  return out;
}

bool IsQemuProcessName(std::string_view comm) {
  return comm.starts_with("qemu-system") || comm.starts_with("qemu-kvm");
}

std::string KernelThreadLabel(std::string_view comm) {
  std::size_t slash = comm.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::string(comm);
  return std::string(comm.substr(0, slash));
}

}  // namespace detail

namespace {

constexpr std::size_t kBitsPerWord = sizeof(unsigned long) * 8;  // NOLINT

// Numeric entries (PIDs or TIDs) of a directory, via getdents64 with a large
// buffer: the listing is the floor of the census, keep it tight. `out` is
// the caller's, reused from one listing to the next (no allocation per
// process).
Expected<void> ListNumeric(int dirfd, std::vector<char>& buf,
                           std::vector<pid_t>& out) {
  out.clear();
  while (true) {
    ssize_t n = ::getdents64(dirfd, buf.data(), buf.size());
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      return Error(std::strerror(err), err);
    }
    if (n == 0) return Ok();
    for (ssize_t off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf.data() + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] < '0' || name[0] > '9') continue;
      pid_t id = 0;
      auto [end, ec] = std::from_chars(name, name + std::strlen(name), id);
      if (ec == std::errc() && *end == '\0') out.push_back(id);
    }
  }
}

// The CPU clock of a whole process: MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
// of include/linux/posix-timers.h, built by hand (clock_getcpuclockid would
// add a clock_getres call). Linux lets any process read it.
std::optional<std::uint64_t> ProcessCpuClockNs(pid_t pid) {
  const clockid_t clock =
      static_cast<clockid_t>((~static_cast<unsigned>(pid)) << 3) | 2;
  struct timespec ts {};
  if (::clock_gettime(clock, &ts) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::optional<std::uint64_t> UptimeTicks(const std::string& procfs) {
  auto text = ReadFile(JoinPath(procfs, "uptime"));
  if (!text) return std::nullopt;
  auto fields = SplitFields(TrimSpace(*text));
  if (fields.empty()) return std::nullopt;
  auto seconds = ParseDouble(fields[0]);
  if (!seconds || *seconds < 0) return std::nullopt;
  return static_cast<std::uint64_t>(*seconds * ClockTicksPerSecond());
}

}  // namespace

ThreadCensus::ThreadCensus(CensusOptions options,
                           std::shared_ptr<const GuestInventoryHolder> guests)
    : options_(std::move(options)),
      guests_(std::move(guests)),
      ledger_(options_.top_comms),
      dirbuf_(std::size_t{64} * 1024) {
  switch (options_.affinity) {
    case AffinitySource::kSyscall:
      use_syscall_ = true;
      break;
    case AffinitySource::kStatusFile:
      use_syscall_ = false;
      break;
    case AffinitySource::kAuto:
      use_syscall_ = options_.paths.own_pid_namespace;
      break;
  }
  if (!options_.process_runtime && use_syscall_)
    options_.process_runtime = ProcessCpuClockNs;
  long conf = ::sysconf(_SC_NPROCESSORS_CONF);
  std::size_t bits = static_cast<std::size_t>(conf > 0 ? conf : 1);
  mask_.assign(
      std::max<std::size_t>(1, (bits + kBitsPerWord - 1) / kBitsPerWord), 0);
}

ThreadCensus::~ThreadCensus() = default;

bool ThreadCensus::ReadAffinity(int task_dirfd, pid_t tid) {
  if (use_syscall_) {
    while (true) {
      std::fill(mask_.begin(), mask_.end(), 0);
      if (::sched_getaffinity(
              tid, mask_.size() * sizeof(unsigned long),  // NOLINT
              reinterpret_cast<cpu_set_t*>(mask_.data())) == 0) {
        return true;
      }
      // The kernel wants room for nr_cpu_ids bits: grow and retry.
      if (errno == EINVAL && mask_.size() < CpuSet::kMaxCpus / kBitsPerWord) {
        mask_.resize(mask_.size() * 2);
        continue;
      }
      return false;  // ESRCH: gone
    }
  }
  char path[48];
  char buf[4096];
  ssize_t n = ReadSmallFileAt(
      task_dirfd, IdPath(path, sizeof(path), tid, "status"), buf, sizeof(buf));
  if (n <= 0) return false;
  auto cpus =
      ParseCpusAllowedList(std::string_view(buf, static_cast<std::size_t>(n)));
  if (!cpus) return false;
  std::fill(mask_.begin(), mask_.end(), 0);
  for (int cpu : cpus->Members()) {
    std::size_t w = static_cast<std::size_t>(cpu) / kBitsPerWord;
    if (w >= mask_.size()) mask_.resize(w + 1, 0);
    mask_[w] |= 1UL << (static_cast<std::size_t>(cpu) % kBitsPerWord);
  }
  return true;
}

void ThreadCensus::BeginRound(const CpuSet& guest_cpus, CensusResult& result) {
  guest_mask_.assign(
      std::max<std::size_t>(
          1, (static_cast<std::size_t>(guest_cpus.End()) + kBitsPerWord - 1) /
                 kBitsPerWord),
      0);
  for (int cpu : guest_cpus.Members()) {
    guest_mask_[static_cast<std::size_t>(cpu) / kBitsPerWord] |=
        1UL << (static_cast<std::size_t>(cpu) % kBitsPerWord);
  }
  // Guests from the libvirt inventory when it names QEMU processes; QEMU
  // processes are also recognised by name, which is all there is when
  // libvirt is down.
  qemu_pids_.clear();
  vcpu_tids_.clear();
  if (guests_) {
    auto inv = guests_->Current();
    for (const GuestDomain& d : inv->domains) {
      if (d.qemu_pid <= 0) continue;
      qemu_pids_.insert(d.qemu_pid);
      for (const GuestVcpu& v : d.vcpus) {
        if (v.tid > 0) vcpu_tids_.insert(v.tid);
      }
    }
  }
  result.guest_source = qemu_pids_.empty() ? "procfs" : "libvirt";
  next_.clear();
  next_runtime_.clear();
  deltas_.clear();
  intruders_.clear();
}

// The threads of `pid` whose affinity (read into mask_) includes a guest-role
// CPU, into cands_. false when the process is gone.
bool ThreadCensus::ListCandidates(int taskfd, bool any_guest,
                                  CensusResult& result) {
  if (!ListNumeric(taskfd, dirbuf_, tids_)) return false;  // exited
  cands_.clear();
  for (pid_t tid : tids_) {
    if (!ReadAffinity(taskfd, tid)) {
      ++result.vanished;
      continue;
    }
    ++result.tasks;
    if (!any_guest) continue;
    bool hits = false;
    int count = 0, first = -1;
    for (std::size_t w = 0; w < mask_.size(); ++w) {
      unsigned long bits = mask_[w];  // NOLINT
      if (bits == 0) continue;
      if (w < guest_mask_.size() && (bits & guest_mask_[w]) != 0) hits = true;
      count += std::popcount(bits);
      if (first < 0)
        first = static_cast<int>(w * kBitsPerWord) + std::countr_zero(bits);
    }
    if (hits) cands_.push_back(Candidate{tid, count == 1 ? first : -1});
  }
  return true;
}

void ThreadCensus::WalkProcess(pid_t pid, int procfd, bool any_guest,
                               CensusResult& result) {
  char path[48];
  const UniqueFd taskfd =
      OpenDirAt(procfd, IdPath(path, sizeof(path), pid, "task"));
  // The process exited since the listing.
  if (!taskfd.valid() || !ListCandidates(taskfd.get(), any_guest, result)) {
    ++result.vanished;
    return;
  }
  if (cands_.empty()) return;
  if (options_.skip_idle_processes && options_.process_runtime &&
      qemu_pids_.count(pid) == 0) {
    // Read the clock before the threads: time used after this point shows
    // up in the next census.
    if (auto runtime = options_.process_runtime(pid)) {
      auto it = prev_runtime_.find(pid);
      bool idle = it != prev_runtime_.end() && it->second == *runtime;
      next_runtime_[pid] = *runtime;
      if (idle && CarryOverIdle(pid, cands_, result)) return;
    }
  }
  ExamineProcess(pid, procfd, taskfd.get(), cands_, result);
}

Expected<CensusResult> ThreadCensus::Run(const CpuRoles& roles) {
  auto started = std::chrono::steady_clock::now();
  CensusResult result;
  result.isolation_configured = roles.IsolationConfigured();
  const CpuSet guest_cpus =
      roles.IsolationConfigured() ? roles.GuestCpus() : CpuSet();
  BeginRound(guest_cpus, result);
  std::optional<std::uint64_t> uptime = UptimeTicks(options_.paths.procfs);

  const UniqueFd procfd = OpenDirAt(AT_FDCWD, options_.paths.procfs.c_str());
  if (!procfd.valid()) {
    const int err = errno;
    return Error("open " + options_.paths.procfs + ": " + std::strerror(err),
                 err);
  }
  std::vector<pid_t> pids;
  pids.reserve(4096);
  if (auto listed = ListNumeric(procfd.get(), dirbuf_, pids); !listed)
    return listed.failure().WithContext("listing " + options_.paths.procfs);
  for (pid_t pid : pids)
    WalkProcess(pid, procfd.get(), !guest_cpus.Empty(), result);

  ledger_.Add(deltas_, guest_cpus);
  result.intrusion = ledger_.Exposition();
  result.top_intruders = detail::TopIntruders(deltas_);
  for (auto& [comm, cpus] : intruders_) {
    result.host_task_violations.push_back(Violation{"comm " + comm, cpus});
  }
  prev_.swap(next_);
  prev_runtime_.swap(next_runtime_);
  has_previous_ = true;
  previous_uptime_ticks_ = uptime;
  result.finished = std::chrono::steady_clock::now();
  result.duration_seconds =
      std::chrono::duration<double>(result.finished - started).count();
  return result;
}

bool ThreadCensus::CarryOverIdle(pid_t pid, const std::vector<Candidate>& cands,
                                 CensusResult& result) {
  for (const Candidate& c : cands) {
    auto it = prev_.find(c.tid);
    if (it == prev_.end() || it->second.single_cpu != c.single_cpu)
      return false;
  }
  for (const Candidate& c : cands) {
    const Prev& p = prev_.at(c.tid);
    next_[c.tid] = p;
    if (p.cls == TaskClass::kHost) ++result.host_tasks_on_guest_cpus;
    if (options_.keep_examined) {
      result.examined.push_back(
          CensusTask{pid, c.tid, p.cls, "", c.single_cpu, 0});
    }
  }
  ++result.idle_processes_skipped;
  return true;
}

std::optional<TaskStat> ThreadCensus::ReadStat(int task_dirfd, pid_t tid,
                                               CensusResult& result) {
  char path[48];
  char buf[1024];
  ssize_t n =
      ReadSmallFileAt(task_dirfd, IdPath(path, sizeof(path), tid, "stat"), buf,
                      sizeof(buf) - 1);
  if (n <= 0) {
    ++result.vanished;
    return std::nullopt;
  }
  ++result.stat_reads;
  auto st = ParseTaskStat(std::string_view(buf, static_cast<std::size_t>(n)));
  if (!st) {
    ++result.malformed;
    log::Debug("skipping unparsable task stat",
               {{"tid", std::to_string(tid)}, {"err", st.error()}});
    return std::nullopt;
  }
  return std::move(st).value();
}

namespace {

// The process name: the thread group leader's comm, from its stat when it was
// read anyway, else /proc/PID/comm.
std::optional<std::string> ProcessComm(int procfd, pid_t pid,
                                       const std::optional<TaskStat>& leader) {
  if (leader) return leader->comm;
  char path[48];
  char buf[64];
  ssize_t n = ReadSmallFileAt(procfd, IdPath(path, sizeof(path), pid, "comm"),
                              buf, sizeof(buf));
  if (n <= 0) return std::nullopt;
  std::string_view s(buf, static_cast<std::size_t>(n));
  if (s.back() == '\n') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

TaskClass ThreadCensus::Classify(bool qemu, const Candidate& c,
                                 const TaskStat& st) const {
  if (qemu) {
    return (vcpu_tids_.count(c.tid) > 0 || VcpuIndexFromComm(st.comm))
               ? TaskClass::kVcpu
               : TaskClass::kQemuOther;
  }
  if (st.KernelThread() && c.single_cpu >= 0) return TaskClass::kPerCpuKernel;
  return TaskClass::kHost;
}

bool ThreadCensus::IsGuestCpu(int cpu) const {
  const auto c = static_cast<std::size_t>(cpu);
  return cpu >= 0 && c / kBitsPerWord < guest_mask_.size() &&
         ((guest_mask_[c / kBitsPerWord] >> (c % kBitsPerWord)) & 1UL) != 0;
}

// A host or per-CPU kernel thread: the CPU time it used since the previous
// census, attributed to a CPU (see the class comment), is intrusion when that
// CPU is guest-role.
void ThreadCensus::AccountHostTime(const Candidate& c, const TaskStat& st,
                                   TaskClass cls, const std::string& pname,
                                   CensusTask& seen, CensusResult& result) {
  if (cls == TaskClass::kHost) ++result.host_tasks_on_guest_cpus;
  const std::uint64_t ticks = st.utime + st.stime;
  std::uint64_t delta = 0;
  auto it = prev_.find(c.tid);
  if (it != prev_.end() && it->second.starttime == st.starttime) {
    delta = ticks >= it->second.ticks ? ticks - it->second.ticks : 0;
  } else if (has_previous_ && previous_uptime_ticks_ &&
             st.starttime >= *previous_uptime_ticks_) {
    delta = ticks;  // born since the previous census
  }
  next_[c.tid] = Prev{st.starttime, ticks, cls, c.single_cpu};
  const int cpu = c.single_cpu >= 0 ? c.single_cpu : st.processor;
  seen.cpu = cpu;
  if (cls == TaskClass::kPerCpuKernel) {
    seen.comm = std::string(detail::IntrusionLedger::kKernel);
  } else {
    seen.comm = st.KernelThread() ? detail::KernelThreadLabel(pname) : pname;
  }
  if (!IsGuestCpu(cpu) || delta == 0) return;
  seen.delta_ticks = delta;
  deltas_.push_back(detail::IntrusionLedger::Delta{
      seen.comm, cpu, delta, cls == TaskClass::kPerCpuKernel});
  if (cls == TaskClass::kHost) intruders_[seen.comm].Insert(cpu);
}

void ThreadCensus::ExamineProcess(pid_t pid, int procfd, int task_dirfd,
                                  const std::vector<Candidate>& cands,
                                  CensusResult& result) {
  if (qemu_pids_.count(pid) > 0) {
    // libvirt told us: no read needed to classify these.
    if (options_.keep_examined) {
      for (const Candidate& c : cands) {
        TaskClass cls = vcpu_tids_.count(c.tid) > 0 ? TaskClass::kVcpu
                                                    : TaskClass::kQemuOther;
        result.examined.push_back(CensusTask{pid, c.tid, cls, "", -1, 0});
      }
    }
    return;
  }
  std::optional<TaskStat> leader;
  for (const Candidate& c : cands) {
    if (c.tid == pid) leader = ReadStat(task_dirfd, pid, result);
  }
  const std::optional<std::string> process_comm =
      ProcessComm(procfd, pid, leader);
  const bool qemu = process_comm && detail::IsQemuProcessName(*process_comm);
  for (const Candidate& c : cands) {
    std::optional<TaskStat> st =
        c.tid == pid ? leader : ReadStat(task_dirfd, c.tid, result);
    if (!st) continue;
    const TaskClass cls = Classify(qemu, c, *st);
    CensusTask seen{pid, c.tid, cls, "", -1, 0};
    if (cls == TaskClass::kVcpu || cls == TaskClass::kQemuOther) {
      next_[c.tid] =
          Prev{st->starttime, st->utime + st->stime, cls, c.single_cpu};
    } else {
      AccountHostTime(c, *st, cls, process_comm ? *process_comm : st->comm,
                      seen, result);
    }
    if (options_.keep_examined) result.examined.push_back(std::move(seen));
  }
}

}  // namespace hostiso
