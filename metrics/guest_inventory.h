#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/mutex.h"

namespace hostiso {

// One vCPU of a running guest, as last seen.
struct GuestVcpu {
  int index = 0;
  pid_t tid = 0;      // host thread id of "CPU N/KVM"; 0 when unknown
  CpuSet affinity;    // CPUs the vCPU thread may run on
  int last_cpu = -1;  // CPU it last ran on; -1 unknown
};

// One running libvirt domain (or a QEMU process found in /proc).
struct GuestDomain {
  std::string name;  // libvirt domain name, e.g. instance-0000abcd
  std::string uuid;
  pid_t qemu_pid = 0;  // 0 when unknown
  int vcpu_count = 0;
  std::uint64_t memory_bytes = 0;  // current allocation
  bool hugepages_backed = false;   // <memoryBacking><hugepages/>
  // Nova metadata (namespace http://openstack.org/xmlns/libvirt/nova/1.1);
  // empty when absent.
  std::string instance_name, project_id, project_name, flavor, cpu_policy;
  std::vector<GuestVcpu> vcpus;
  CpuSet emulator_affinity;               // emulatorpin; empty when unknown
  std::vector<CpuSet> iothread_affinity;  // per I/O thread
  // NUMA placement (numa_misplacement): the memory nodes of <numatune>
  // (nullopt without a nodeset), the guest NUMA cells of <cpu><numa>, and the
  // QEMU process's Mems_allowed_list (/proc/PID/status, read at refresh time;
  // nullopt when the pid is unknown or the file unreadable).
  std::optional<CpuSet> numatune_nodes;
  int numa_cells = 0;
  std::optional<CpuSet> mems_allowed;
};

// The guests on this host as of one refresh. Immutable once published.
struct GuestInventory {
  std::vector<GuestDomain> domains;
  // Where the list came from: "libvirt", or "procfs" when libvirt is down and
  // QEMU processes were found by scanning /proc.
  std::string source = "none";
  std::chrono::steady_clock::time_point taken{};
};

// Hands the latest GuestInventory from its producer (the libvirt worker) to
// its readers (collectors, the thread census). Thread-safe.
class GuestInventoryHolder {
 public:
  void Publish(std::shared_ptr<const GuestInventory> inv) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    current_ = std::move(inv);
  }
  // Never null: an empty inventory before the first refresh.
  std::shared_ptr<const GuestInventory> Current() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return current_;
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const GuestInventory> current_ GUARDED_BY(mu_) =
      std::make_shared<GuestInventory>();
};

}  // namespace hostiso
