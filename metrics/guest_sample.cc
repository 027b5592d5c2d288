#include "metrics/guest_sample.h"

#include <fcntl.h>
#include <unistd.h>

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

void SampleVcpu(int task_dirfd, const GuestVcpu& v, VcpuSample& out) {
  out.cpu = OnlyCpu(v.affinity);
  if (v.tid <= 0 || task_dirfd < 0) return;
  char path[64];
  char buf[512];
  ssize_t n = ReadSmallFileAt(task_dirfd,
                              IdPath(path, sizeof(path), v.tid, "schedstat"),
                              buf, sizeof(buf));
  if (n > 0) {
    if (auto ss = ParseTaskSchedstat(
            std::string_view(buf, static_cast<std::size_t>(n)))) {
      out.run_ns = ss->run_ns;
      out.delay_ns = ss->delay_ns;
    }
  }
  if (out.cpu >= 0) return;  // pinned to one CPU: it can only be there
  n = ReadSmallFileAt(task_dirfd, IdPath(path, sizeof(path), v.tid, "stat"),
                      buf, sizeof(buf));
  if (n > 0) {
    if (auto st =
            ParseTaskStat(std::string_view(buf, static_cast<std::size_t>(n))))
      out.cpu = st->processor;
  }
  if (out.cpu < 0) out.cpu = v.last_cpu;  // libvirt's view, as last refreshed
}

DomainSample SampleDomain(int procfd, const GuestDomain& d) {
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
  ssize_t n =
      ReadSmallFileAt(procfd, IdPath(path, sizeof(path), d.qemu_pid, "statm"),
                      buf, sizeof(buf));
  if (n <= 0) {
    s.running = false;
    return s;
  }
  if (auto statm =
          ParseStatm(std::string_view(buf, static_cast<std::size_t>(n))))
    s.statm = *statm;
  const UniqueFd task =
      OpenDirAt(procfd, IdPath(path, sizeof(path), d.qemu_pid, "task"));
  for (std::size_t i = 0; i < d.vcpus.size(); ++i)
    SampleVcpu(task.get(), d.vcpus[i], s.vcpus[i]);
  return s;
}

}  // namespace

GuestSample SampleGuests(const std::string& procfs,
                         std::shared_ptr<const GuestInventory> inventory) {
  GuestSample sample;
  sample.inventory = std::move(inventory);
  if (!sample.inventory) return sample;
  const UniqueFd proc = OpenDirAt(AT_FDCWD, procfs.c_str());
  sample.domains.reserve(sample.inventory->domains.size());
  for (const GuestDomain& d : sample.inventory->domains)
    sample.domains.push_back(SampleDomain(proc.get(), d));
  return sample;
}

const GuestSample& GuestSampler::Sample(
    const std::shared_ptr<const GuestInventory>& inventory) {
  static const auto kEmpty = std::make_shared<const GuestInventory>();
  const std::shared_ptr<const GuestInventory>& inv =
      inventory ? inventory : kEmpty;
  if (!sample_ || sample_->inventory != inv)
    sample_ = SampleGuests(procfs_, inv);
  return *sample_;
}

}  // namespace hostiso
