#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "metrics/cpu_roles.h"
#include "metrics/cpu_topology.h"
#include "metrics/kernel_cmdline.h"
#include "metrics/log.h"
#include "metrics/nova_config.h"

namespace hostiso {

struct IsolationOptions {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string nova_config = "/etc/nova/nova.conf";
  // An explicit --nova.config that does not exist is an error; the default
  // path missing is normal on hosts without Nova.
  bool nova_config_explicit = false;
  std::optional<CpuSet> guest_cpus;  // --isolation.guest-cpus
};

// Everything the collectors and detectors need to know about who owns which
// CPU, as of one refresh. Immutable once published.
struct IsolationSnapshot {
  std::string nova_path;
  bool nova_present = false;  // the file exists
  // Last good nova.conf; kept when a later edit breaks the file.
  std::optional<NovaConfig> nova;
  // false when the current file failed to parse (or an explicit path is
  // missing).
  bool nova_load_success = true;
  std::string nova_error;
  std::optional<CpuSet> flag_guest_cpus;

  KernelCmdline cmdline;
  bool cmdline_ok = false;
  std::string cmdline_error;

  CpuTopology topology;
  bool topology_ok = false;
  std::string topology_error;

  GuestCpuSets guest_sets;
  CpuRoles roles;  // over present CPUs
  // Bumped whenever the roles change, so listeners (self-confinement to host
  // CPUs) can react without comparing sets.
  std::uint64_t roles_generation = 0;
};

// Produces IsolationSnapshots: re-reads the sysfs CPU files and /proc/cmdline
// at every refresh, and nova.conf only when its inode, size or mtime changed.
// Refresh() is called on the scrape path; background workers (libvirt,
// census) call Current(). Thread-safe.
class IsolationSource {
 public:
  explicit IsolationSource(IsolationOptions options);

  std::shared_ptr<const IsolationSnapshot> Refresh();
  std::shared_ptr<const IsolationSnapshot> Current() const;
  const IsolationOptions& Options() const { return options_; }

 private:
  struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static FileStamp Stamp(const std::string& path);

  IsolationOptions options_;
  std::mutex refresh_mu_;  // serializes Refresh()
  FileStamp nova_stamp_;
  bool nova_checked_ = false;
  std::optional<NovaConfig> nova_last_good_;
  bool nova_ok_ = true;
  std::string nova_error_;
  log::ErrorLatch cmdline_latch_{"reading the kernel command line"};

  mutable std::mutex current_mu_;
  std::shared_ptr<const IsolationSnapshot> current_;
};

}  // namespace hostiso
