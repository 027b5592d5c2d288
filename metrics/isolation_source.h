#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/cpu_roles.h"
#include "metrics/log.h"
#include "metrics/mutex.h"
#include "metrics/nova_config.h"
#include "metrics/procfs/host_paths.h"
#include "metrics/procfs/kernel_cmdline.h"
#include "metrics/procfs/proc_stat.h"
#include "metrics/procfs/read_file.h"
#include "metrics/sysfs/cpu_topology.h"

namespace hostiso {

struct IsolationOptions {
  HostPaths paths;
  std::string nova_config = "/etc/nova/nova.conf";
  // An explicit --nova.config that does not exist is an error; the default
  // path missing is normal on hosts without Nova.
  bool nova_config_explicit = false;
  std::optional<CpuSet> guest_cpus;  // --isolation.guest-cpus
};

// Everything the collectors and detectors need to know about who owns which
// CPU. Immutable once published.
struct IsolationSnapshot {
  std::string nova_path;
  bool nova_present = false;  // the file exists
  // Last good nova.conf; kept when a later edit breaks the file.
  std::optional<NovaConfig> nova;
  // false when the current file failed to load (or an explicit path is
  // missing).
  bool nova_load_success = true;
  std::string nova_error;
  std::optional<CpuSet> flag_guest_cpus;

  KernelCmdline cmdline;
  bool cmdline_ok = false;
  std::string cmdline_error;

  // The CPUs and kernel isolation as of the last kernel read; when that read
  // failed, topology_ok is false and `topology` is the last good one (the
  // roles still need the CPU list; the per-CPU isolation series are left out).
  CpuTopology topology;
  bool topology_ok = false;
  std::string topology_error;
  // /proc/stat as this refresh read it, set only in the fallback where sysfs
  // has neither cpu/present nor cpu/online (the CPU list then comes from
  // /proc/stat). The CPU collector serves these ticks instead of reading the
  // file a second time in the same scrape.
  std::optional<Expected<std::vector<CpuTicks>>> proc_stat;

  GuestCpuSets guest_sets;
  CpuRoles roles;  // over present CPUs
  // Bumped whenever the roles change, so listeners (self-confinement to host
  // CPUs) can react without comparing sets.
  std::uint64_t roles_generation = 0;
  // Bumped whenever nova.conf was read again (changed on disk).
  std::uint64_t config_generation = 0;
};

// Produces IsolationSnapshots from two kinds of input:
// - configuration (nova.conf, re-read only when its inode, size or mtime
//   changed): Reload(), run by the isolation worker on its own schedule and on
//   SIGHUP. nova.conf is never read on the scrape path.
// - kernel state (/sys/devices/system/cpu lists, /proc/cmdline, small and
//   bounded reads): RefreshKernelState(), run at every scrape (the contract
//   re-reads isolation every scrape) and by Reload().
// Current() is what background workers (libvirt, census, disk,
// self-confinement) read. Thread-safe.
class IsolationSource {
 public:
  explicit IsolationSource(IsolationOptions options);

  std::shared_ptr<const IsolationSnapshot> Reload() EXCLUDES(mu_);
  std::shared_ptr<const IsolationSnapshot> RefreshKernelState() EXCLUDES(mu_);
  std::shared_ptr<const IsolationSnapshot> Current() const EXCLUDES(mu_);
  const IsolationOptions& Options() const { return options_; }

 private:
  void LoadNovaConfigIfChanged() REQUIRES(mu_);
  // Reads the kernel's files into `snap` and publishes it.
  std::shared_ptr<const IsolationSnapshot> Publish(
      std::shared_ptr<IsolationSnapshot> snap) REQUIRES(mu_);

  const IsolationOptions options_;
  mutable Mutex mu_;
  FileStamp nova_stamp_ GUARDED_BY(mu_);
  bool nova_checked_ GUARDED_BY(mu_) = false;
  std::uint64_t config_generation_ GUARDED_BY(mu_) = 0;
  std::optional<NovaConfig> nova_last_good_ GUARDED_BY(mu_);
  bool nova_ok_ GUARDED_BY(mu_) = true;
  std::string nova_error_ GUARDED_BY(mu_);
  std::optional<CpuTopology> last_good_topology_ GUARDED_BY(mu_);
  log::ErrorLatch cmdline_latch_ GUARDED_BY(mu_){
      "reading the kernel command line"};
  log::ErrorLatch topology_latch_ GUARDED_BY(mu_){
      "reading the CPU lists and kernel isolation"};
  std::shared_ptr<const IsolationSnapshot> current_ GUARDED_BY(mu_);
};

}  // namespace hostiso
