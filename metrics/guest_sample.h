#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/guest_inventory.h"
#include "metrics/procfs/statm.h"

namespace hostiso {

// One vCPU thread as read at this scrape.
struct VcpuSample {
  // /proc/PID/task/TID/schedstat: run and wait time (ns); nullopt when the
  // thread id is unknown or its file could not be read.
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
};

// Reads the guests' per-process files once per scrape, for every collector
// that needs them (libvirt: RSS and vCPU counters; memory: private RSS). The
// minimum: per vCPU one schedstat, plus its stat only when it may run on
// several CPUs; per QEMU one statm. QEMU's smaps is never read.
// Not thread-safe: one scrape at a time (the exporter's scrape lock).
class GuestSampler {
 public:
  explicit GuestSampler(std::string procfs) : procfs_(std::move(procfs)) {}
  // The sample of `inventory` for this scrape, read on first use. Collectors
  // that pass the same inventory (the libvirt worker publishes one object)
  // share one read.
  const GuestSample& Sample(
      const std::shared_ptr<const GuestInventory>& inventory);
  // Forgets the sample: the next Sample() reads again (between scrapes).
  void Reset() { sample_.reset(); }

 private:
  std::string procfs_;
  std::optional<GuestSample> sample_;
};

// Reads one inventory's processes under `procfs` (the GuestSampler's work;
// exposed for tests and benchmarks).
GuestSample SampleGuests(const std::string& procfs,
                         std::shared_ptr<const GuestInventory> inventory);

}  // namespace hostiso
