#include "metrics/isolation_source.h"

#include "metrics/file_reader.h"
#include "metrics/log.h"

namespace hostiso {

IsolationSource::IsolationSource(IsolationOptions options)
    : options_(std::move(options)),
      current_(std::make_shared<IsolationSnapshot>()) {}

IsolationSource::FileStamp IsolationSource::Stamp(const std::string& path) {
  struct stat st {};
  FileStamp s;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
               st.st_mtim.tv_nsec;
  return s;
}

std::shared_ptr<const IsolationSnapshot> IsolationSource::Refresh() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  auto snap = std::make_shared<IsolationSnapshot>();
  snap->nova_path = options_.nova_config;
  snap->flag_guest_cpus = options_.guest_cpus;

  // nova.conf: re-read only when it changed (a stat per scrape is cheap).
  FileStamp stamp = Stamp(options_.nova_config);
  if (!nova_checked_ || !(stamp == nova_stamp_)) {
    nova_checked_ = true;
    nova_stamp_ = stamp;
    if (!stamp.exists) {
      if (options_.nova_config_explicit) {
        nova_ok_ = false;
        nova_error_ = options_.nova_config + ": file not found";
        log::Error("nova.conf not found; keeping the last good configuration",
                   {{"path", options_.nova_config}});
      } else {
        nova_ok_ = true;
        nova_error_.clear();
        nova_last_good_.reset();
        log::Info("no nova.conf; treating this as a plain libvirt host",
                  {{"path", options_.nova_config}});
      }
    } else if (auto text = ReadFile(options_.nova_config); !text) {
      nova_ok_ = false;
      nova_error_ = text.error();
      log::Error("cannot read nova.conf; keeping the last good configuration",
                 {{"err", nova_error_}});
    } else if (auto cfg = ParseNovaConfig(*text, options_.nova_config); !cfg) {
      nova_ok_ = false;
      nova_error_ = cfg.error();
      log::Error("invalid nova.conf; keeping the last good configuration",
                 {{"err", nova_error_}});
    } else {
      bool had_failed = !nova_ok_;
      nova_ok_ = true;
      nova_error_.clear();
      nova_last_good_ = *cfg;
      log::Info(had_failed ? "nova.conf loaded again after an error"
                           : "nova.conf loaded",
                {{"path", options_.nova_config}});
    }
  }
  snap->nova_present = stamp.exists;
  snap->nova = nova_last_good_;
  snap->nova_load_success = nova_ok_;
  snap->nova_error = nova_error_;

  if (auto text = ReadFile(JoinPath(options_.procfs, "cmdline")); !text) {
    snap->cmdline_error = text.error();
  } else if (auto cmdline = ParseKernelCmdline(*text); !cmdline) {
    snap->cmdline_error = cmdline.error();
  } else {
    snap->cmdline = *cmdline;
    snap->cmdline_ok = true;
  }
  if (snap->cmdline_ok) {
    cmdline_latch_.Ok();
  } else {
    cmdline_latch_.Fail(snap->cmdline_error);
  }

  if (auto topo = ReadCpuTopology(options_.sysfs); !topo) {
    snap->topology_error = topo.error();
  } else {
    snap->topology = *topo;
    snap->topology_ok = true;
  }

  snap->guest_sets = GuestSetsFromConfig(snap->nova, snap->flag_guest_cpus);
  snap->roles = CpuRoles(snap->guest_sets, snap->topology.present);

  std::lock_guard<std::mutex> cur(current_mu_);
  const IsolationSnapshot& prev = *current_;
  bool roles_changed =
      prev.roles.HostCpus() != snap->roles.HostCpus() ||
      prev.roles.GuestCpus() != snap->roles.GuestCpus() ||
      prev.roles.DedicatedCpus() != snap->roles.DedicatedCpus() ||
      prev.roles.IsolationConfigured() != snap->roles.IsolationConfigured();
  snap->roles_generation = prev.roles_generation + (roles_changed ? 1 : 0);
  current_ = snap;
  return snap;
}

std::shared_ptr<const IsolationSnapshot> IsolationSource::Current() const {
  std::lock_guard<std::mutex> lock(current_mu_);
  return current_;
}

}  // namespace hostiso
