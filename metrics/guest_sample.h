#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/expected.h"
#include "metrics/guest_inventory.h"
#include "metrics/procfs/kept_files.h"
#include "metrics/procfs/statm.h"

namespace hostiso {

// One vCPU thread's scheduler counters as a VcpuCounterSource reports them:
// the fields of its /proc/PID/task/TID/schedstat and stat's processor, read
// in one pass for every registered thread (the sched collector's task
// iterator) instead of one file per thread.
struct VcpuCounters {
  pid_t tid = 0;
  pid_t tgid = 0;  // its process; a row of another process is not used
  int cpu = -1;    // the CPU it last ran on (task_cpu)
  std::uint64_t run_ns = 0;
  std::uint64_t delay_ns = 0;
  std::uint64_t pcount = 0;
};

// Where vCPU counters come from when not from the files. Called under the
// scrape lock, once per scrape.
class VcpuCounterSource {
 public:
  virtual ~VcpuCounterSource() = default;
  // The counters of every thread the source knows (the vCPU threads it was
  // given); an Error when it cannot be read now (the sampler then reads the
  // files).
  virtual Expected<std::vector<VcpuCounters>> ReadVcpuCounters() = 0;
};

// One read of a VcpuCounterSource, looked up by thread id.
class VcpuCounterTable {
 public:
  explicit VcpuCounterTable(std::vector<VcpuCounters> rows);
  // The row of `tid`, or nullptr when the source did not report it.
  const VcpuCounters* Find(pid_t tid) const;
  std::size_t Size() const { return rows_.size(); }

 private:
  std::vector<VcpuCounters> rows_;  // sorted by tid
};

// One vCPU thread as read at this scrape.
struct VcpuSample {
  // Run and wait time (ns), from /proc/PID/task/TID/schedstat or the same
  // fields from a VcpuCounterSource; nullopt when the thread id is unknown or
  // neither could be read.
  std::optional<std::uint64_t> run_ns;
  std::optional<std::uint64_t> delay_ns;
  // The CPU it last ran on: its only CPU when pinned to one (no read needed),
  // else field 39 of its stat; -1 when unknown.
  int cpu = -1;
};

// One domain's QEMU process as read at this scrape.
struct DomainSample {
  // false when QEMU's pid is known but its statm is gone: the guest stopped
  // since the inventory was taken. Its series and violations are dropped.
  bool running = true;
  std::optional<Statm> statm;     // of the QEMU process, when its pid is known
  std::vector<VcpuSample> vcpus;  // parallel to GuestDomain::vcpus
};

// The inventory the sample was taken against, and one DomainSample per
// domain (parallel to inventory->domains).
struct GuestSample {
  std::shared_ptr<const GuestInventory> inventory;
  std::vector<DomainSample> domains;
  // How many vCPUs took their counters from the VcpuCounterSource rather
  // than from their files (tests, benchmarks).
  std::size_t vcpus_from_source = 0;
};

// Reads the guests' per-process files once per scrape, for every collector
// that needs them (libvirt: RSS and vCPU counters; memory: private RSS). The
// minimum: per vCPU one schedstat, plus its stat only when it may run on
// several CPUs; per QEMU one statm. QEMU's smaps is never read. With a
// VcpuCounterSource (the sched collector, when loaded) the vCPU files are
// read only for threads the source did not report.
// Not thread-safe: one scrape at a time (the exporter's scrape lock).
class GuestSampler {
 public:
  // Whether per-task files stay open across scrapes (KeptProcFiles): with
  // kOnKernelFs, when `procfs` is a real procfs mount.
  using KeepFiles = hostiso::KeepFiles;
  explicit GuestSampler(std::string procfs,
                        KeepFiles keep = KeepFiles::kOnKernelFs);
  ~GuestSampler();
  GuestSampler(const GuestSampler&) = delete;
  GuestSampler& operator=(const GuestSampler&) = delete;
  // The sample of `inventory` for this scrape, read on first use. Collectors
  // that pass the same inventory (the libvirt worker publishes one object)
  // share one read.
  const GuestSample& Sample(
      const std::shared_ptr<const GuestInventory>& inventory);
  // Forgets the sample: the next Sample() reads again (between scrapes).
  void Reset() { sample_.reset(); }
  // Takes vCPU counters from `source` while it exists, from the files
  // otherwise (and for every thread, at a scrape where it fails: logged once
  // per distinct error). Kept across Reset().
  void SetVcpuCounterSource(std::weak_ptr<VcpuCounterSource> source) {
    source_ = std::move(source);
  }

 private:
  // One read of the source for this scrape; nullptr without one or when it
  // failed.
  std::unique_ptr<VcpuCounterTable> ReadSource();

  std::string procfs_;
  std::optional<KeptProcFiles> kept_;
  std::optional<GuestSample> sample_;
  std::weak_ptr<VcpuCounterSource> source_;
  bool source_failing_ = false;
};

// Reads one inventory's processes under `procfs` (the GuestSampler's work;
// exposed for tests and benchmarks), taking vCPU counters from `counters`
// where it has the thread.
GuestSample SampleGuests(const std::string& procfs,
                         std::shared_ptr<const GuestInventory> inventory,
                         const VcpuCounterTable* counters = nullptr,
                         KeptProcFiles* kept = nullptr);

}  // namespace hostiso
