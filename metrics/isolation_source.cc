#include "metrics/isolation_source.h"

#include "metrics/procfs/proc_stat.h"
#include "metrics/procfs/read_file.h"

namespace hostiso {
namespace {

// The online CPUs /proc/stat lists: the fallback CPU list on a sysfs without
// cpu/present and cpu/online.
std::optional<CpuSet> CpusFromProcStat(
    const Expected<std::vector<CpuTicks>>& ticks) {
  if (!ticks) return std::nullopt;
  CpuSet cpus;
  for (const CpuTicks& t : *ticks) cpus.Insert(t.cpu);
  return cpus;
}

bool RolesDiffer(const CpuRoles& a, const CpuRoles& b) {
  return a.HostCpus() != b.HostCpus() || a.GuestCpus() != b.GuestCpus() ||
         a.DedicatedCpus() != b.DedicatedCpus() ||
         a.IsolationConfigured() != b.IsolationConfigured();
}

}  // namespace

IsolationSource::IsolationSource(IsolationOptions options)
    : options_(std::move(options)),
      current_(std::make_shared<IsolationSnapshot>()) {}

void IsolationSource::LoadNovaConfigIfChanged() {
  const FileStamp stamp = StampOf(options_.nova_config);
  if (nova_checked_ && stamp == nova_stamp_) return;
  nova_checked_ = true;
  nova_stamp_ = stamp;
  ++config_generation_;
  const std::string& path = options_.nova_config;
  if (!stamp.exists) {
    if (options_.nova_config_explicit) {
      nova_ok_ = false;
      nova_error_ = path + ": file not found";
      log::Error("nova.conf not found; keeping the last good configuration",
                 {{"path", path}});
    } else {
      nova_ok_ = true;
      nova_error_.clear();
      nova_last_good_.reset();
      log::Info("no nova.conf; treating this as a plain libvirt host",
                {{"path", path}});
    }
    return;
  }
  auto cfg = ReadFile(path);
  Expected<NovaConfig> parsed =
      cfg ? ParseNovaConfig(*cfg, path) : Expected<NovaConfig>(cfg.failure());
  if (!parsed) {
    nova_ok_ = false;
    nova_error_ = parsed.error();
    log::Error("cannot load nova.conf; keeping the last good configuration",
               {{"err", nova_error_}});
    return;
  }
  const bool had_failed = !nova_ok_;
  nova_ok_ = true;
  nova_error_.clear();
  nova_last_good_ = *parsed;
  log::Info(
      had_failed ? "nova.conf loaded again after an error" : "nova.conf loaded",
      {{"path", path}});
}

std::shared_ptr<const IsolationSnapshot> IsolationSource::Reload() {
  MutexLock lock(mu_);
  LoadNovaConfigIfChanged();
  auto snap = std::make_shared<IsolationSnapshot>();
  snap->nova_present = nova_stamp_.exists;
  return Publish(std::move(snap));
}

std::shared_ptr<const IsolationSnapshot> IsolationSource::RefreshKernelState() {
  MutexLock lock(mu_);
  auto snap = std::make_shared<IsolationSnapshot>();
  snap->nova_present = nova_stamp_.exists;
  return Publish(std::move(snap));
}

std::shared_ptr<const IsolationSnapshot> IsolationSource::Publish(
    std::shared_ptr<IsolationSnapshot> snap) {
  const HostPaths& paths = options_.paths;
  snap->nova_path = options_.nova_config;
  snap->flag_guest_cpus = options_.guest_cpus;
  snap->nova = nova_last_good_;
  snap->nova_load_success = nova_ok_;
  snap->nova_error = nova_error_;
  snap->config_generation = config_generation_;

  if (auto cmdline = ReadAndParse(paths.Proc("cmdline"), ParseKernelCmdline)) {
    snap->cmdline = *cmdline;
    snap->cmdline_ok = true;
    cmdline_latch_.Ok();
  } else {
    snap->cmdline_error = cmdline.error();
    cmdline_latch_.Fail(snap->cmdline_error);
  }

  Expected<CpuTopology> topology = [&]() -> Expected<CpuTopology> {
    HOSTISO_ASSIGN_OR_RETURN(SysfsCpuLists lists,
                             ReadSysfsCpuLists(paths.sysfs));
    std::optional<CpuSet> proc_stat_cpus;
    if (!lists.present && !lists.online) {
      snap->proc_stat = ReadAndParse(paths.Proc("stat"), ParseProcStat);
      proc_stat_cpus = CpusFromProcStat(*snap->proc_stat);
    }
    return ResolveCpuTopology(
        lists, snap->cmdline_ok ? &snap->cmdline : nullptr, proc_stat_cpus);
  }();
  if (topology) {
    snap->topology = *topology;
    snap->topology_ok = true;
    last_good_topology_ = *topology;
    topology_latch_.Ok();
  } else {
    snap->topology_error = topology.error();
    topology_latch_.Fail(snap->topology_error);
    if (last_good_topology_) snap->topology = *last_good_topology_;
  }

  snap->guest_sets = GuestSetsFromConfig(snap->nova, snap->flag_guest_cpus);
  snap->roles = CpuRoles(snap->guest_sets, snap->topology.present);
  const bool changed = RolesDiffer(current_->roles, snap->roles);
  snap->roles_generation = current_->roles_generation + (changed ? 1 : 0);
  current_ = snap;
  return snap;
}

std::shared_ptr<const IsolationSnapshot> IsolationSource::Current() const {
  MutexLock lock(mu_);
  return current_;
}

}  // namespace hostiso
