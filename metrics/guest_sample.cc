#include "metrics/guest_sample.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "metrics/log.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/procfs/kept_files.h"
#include "metrics/procfs/read_file.h"
#include "metrics/procfs/task_schedstat.h"
#include "metrics/procfs/task_stat.h"

namespace hostiso {
namespace {

// The one CPU a vCPU pinned to one CPU can run on, else -1. End() - 1 is
// that CPU without building Members()' vector (3,000 pinned vCPUs a scrape
// on a large host).
int OnlyCpu(const CpuSet& affinity) {
  return affinity.Count() == 1 ? affinity.End() - 1 : -1;
}

// QEMU's task directory, opened on first use: with a VcpuCounterSource that
// reports every vCPU, or kept descriptors for all of them, it is never
// opened.
class LazyTaskDir {
 public:
  LazyTaskDir(int procfd, pid_t pid) : procfd_(procfd), pid_(pid) {}
  int Get() {
    if (!opened_) {
      opened_ = true;
      char path[64];
      fd_ = OpenDirAt(procfd_, IdPath(path, sizeof(path), pid_, "task"));
    }
    return fd_.get();
  }

 private:
  int procfd_;
  pid_t pid_;
  bool opened_ = false;
  UniqueFd fd_;
};

// Reads `name` ("schedstat", "stat") of vCPU thread `tid` of QEMU `pid`:
// through a kept descriptor when `kept` is given, else opened, read and
// closed under QEMU's task directory. The length, or -1.
ssize_t ReadThreadFile(LazyTaskDir& task_dir, KeptProcFiles* kept, pid_t pid,
                       pid_t tid, KeptProcFiles::File file, const char* name,
                       char* buf, std::size_t cap) {
  char path[64];
  if (kept == nullptr) {
    const int fd = task_dir.Get();
    return fd < 0 ? -1
                  : ReadSmallFileAt(fd, IdPath(path, sizeof(path), tid, name),
                                    buf, cap);
  }
  return kept->Read(
      pid, tid, file,
      [&] {
        const int fd = task_dir.Get();
        return fd < 0 ? UniqueFd()
                      : OpenFileAt(fd, IdPath(path, sizeof(path), tid, name));
      },
      buf, cap);
}

// The vCPU's counters from its own files: schedstat, and stat's processor
// when it may run on several CPUs.
void ReadVcpuFiles(LazyTaskDir& task_dir, KeptProcFiles* kept, pid_t qemu_pid,
                   const GuestVcpu& v, VcpuSample& out) {
  char buf[512];
  ssize_t n = ReadThreadFile(task_dir, kept, qemu_pid, v.tid,
                             KeptProcFiles::File::kSchedstat, "schedstat", buf,
                             sizeof(buf));
  if (n > 0) {
    if (auto ss = ParseTaskSchedstat(
            std::string_view(buf, static_cast<std::size_t>(n)))) {
      out.run_ns = ss->run_ns;
      out.delay_ns = ss->delay_ns;
    }
  }
  if (out.cpu >= 0) return;  // pinned to one CPU: it can only be there
  n = ReadThreadFile(task_dir, kept, qemu_pid, v.tid,
                     KeptProcFiles::File::kStat, "stat", buf, sizeof(buf));
  if (n > 0) {
    if (auto st =
            ParseTaskStat(std::string_view(buf, static_cast<std::size_t>(n))))
      out.cpu = st->processor;
  }
  if (out.cpu < 0) out.cpu = v.last_cpu;  // libvirt's view, as last refreshed
}

// Returns true when the counters came from `counters`.
// A row is used only when its thread is in this domain's QEMU, as the file
// path /proc/QEMU/task/TID would require: a thread id reused by another
// process never lends it its counters.
bool SampleVcpu(LazyTaskDir& task_dir, KeptProcFiles* kept, pid_t qemu_pid,
                const VcpuCounterTable* counters, const GuestVcpu& v,
                VcpuSample& out) {
  out.cpu = OnlyCpu(v.affinity);
  if (v.tid <= 0) return false;
  const VcpuCounters* c = counters ? counters->Find(v.tid) : nullptr;
  if (c != nullptr && c->tgid == qemu_pid) {
    out.run_ns = c->run_ns;
    out.delay_ns = c->delay_ns;
    if (out.cpu < 0) out.cpu = c->cpu;
    return true;
  }
  ReadVcpuFiles(task_dir, kept, qemu_pid, v, out);
  return false;
}

DomainSample SampleDomain(int procfd, const GuestDomain& d,
                          const VcpuCounterTable* counters, KeptProcFiles* kept,
                          std::size_t& from_source) {
  DomainSample s;
  s.vcpus.resize(d.vcpus.size());
  if (d.qemu_pid <= 0) {
    for (std::size_t i = 0; i < d.vcpus.size(); ++i) {
      const int only = OnlyCpu(d.vcpus[i].affinity);
      s.vcpus[i].cpu = only >= 0 ? only : d.vcpus[i].last_cpu;
    }
    return s;
  }
  char path[64];
  char buf[256];
  IdPath(path, sizeof(path), d.qemu_pid, "statm");
  const ssize_t n =
      kept == nullptr
          ? ReadSmallFileAt(procfd, path, buf, sizeof(buf))
          : kept->Read(
                d.qemu_pid, d.qemu_pid, KeptProcFiles::File::kStatm,
                [&] { return OpenFileAt(procfd, path); }, buf, sizeof(buf));
  if (n <= 0) {
    s.running = false;
    return s;
  }
  if (auto statm =
          ParseStatm(std::string_view(buf, static_cast<std::size_t>(n))))
    s.statm = *statm;
  LazyTaskDir task_dir(procfd, d.qemu_pid);
  for (std::size_t i = 0; i < d.vcpus.size(); ++i) {
    if (SampleVcpu(task_dir, kept, d.qemu_pid, counters, d.vcpus[i],
                   s.vcpus[i]))
      ++from_source;
  }
  return s;
}

bool HasVcpuThreads(const GuestInventory& inventory) {
  for (const GuestDomain& d : inventory.domains) {
    if (d.qemu_pid <= 0) continue;
    for (const GuestVcpu& v : d.vcpus) {
      if (v.tid > 0) return true;
    }
  }
  return false;
}

}  // namespace

VcpuCounterTable::VcpuCounterTable(std::vector<VcpuCounters> rows)
    : rows_(std::move(rows)) {
  const auto by_tid = [](const VcpuCounters& a, const VcpuCounters& b) {
    return a.tid < b.tid;
  };
  // The task iterator walks thread ids in ascending order: usually nothing
  // to sort (the check is 4,000 comparisons, a sort 20 times that).
  if (!std::is_sorted(rows_.begin(), rows_.end(), by_tid))
    std::sort(rows_.begin(), rows_.end(), by_tid);
}

const VcpuCounters* VcpuCounterTable::Find(pid_t tid) const {
  auto it = std::lower_bound(
      rows_.begin(), rows_.end(), tid,
      [](const VcpuCounters& row, pid_t t) { return row.tid < t; });
  return it != rows_.end() && it->tid == tid ? &*it : nullptr;
}

GuestSample SampleGuests(const std::string& procfs,
                         std::shared_ptr<const GuestInventory> inventory,
                         const VcpuCounterTable* counters,
                         KeptProcFiles* kept) {
  GuestSample sample;
  sample.inventory = std::move(inventory);
  if (!sample.inventory) return sample;
  const UniqueFd proc = OpenDirAt(AT_FDCWD, procfs.c_str());
  sample.domains.reserve(sample.inventory->domains.size());
  for (const GuestDomain& d : sample.inventory->domains)
    sample.domains.push_back(
        SampleDomain(proc.get(), d, counters, kept, sample.vcpus_from_source));
  // Threads and processes that left the inventory or exited.
  if (kept != nullptr) kept->Sweep();
  return sample;
}

GuestSampler::GuestSampler(std::string procfs, KeepFiles keep)
    : procfs_(std::move(procfs)) {
  if (keep == KeepFiles::kAlways ||
      (keep == KeepFiles::kOnKernelFs && IsProcfsMount(procfs_)))
    kept_.emplace(KeptProcFileBudget());
}

GuestSampler::~GuestSampler() = default;

const GuestSample& GuestSampler::Sample(
    const std::shared_ptr<const GuestInventory>& inventory) {
  static const auto kEmpty = std::make_shared<const GuestInventory>();
  const std::shared_ptr<const GuestInventory>& inv =
      inventory ? inventory : kEmpty;
  if (!sample_ || sample_->inventory != inv) {
    // The iterator walks every task on the host: not for an inventory with
    // no vCPU thread to look up.
    const std::unique_ptr<VcpuCounterTable> counters =
        HasVcpuThreads(*inv) ? ReadSource() : nullptr;
    sample_ =
        SampleGuests(procfs_, inv, counters.get(), kept_ ? &*kept_ : nullptr);
  }
  return *sample_;
}

std::unique_ptr<VcpuCounterTable> GuestSampler::ReadSource() {
  const std::shared_ptr<VcpuCounterSource> source = source_.lock();
  if (!source) return nullptr;
  auto rows = source->ReadVcpuCounters();
  if (!rows) {
    if (!source_failing_)
      log::Warn(
          "cannot read the vCPU counters from the sched collector; reading "
          "each vCPU's schedstat file instead",
          {{"err", rows.error()}});
    source_failing_ = true;
    return nullptr;
  }
  source_failing_ = false;
  return std::make_unique<VcpuCounterTable>(std::move(*rows));
}

}  // namespace hostiso
