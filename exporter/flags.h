#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"
#include "metrics/log.h"

namespace hostiso {

struct Flags {
  // Web layer (exporter/http_server.h).
  std::vector<std::string> listen_addresses = {":9933"};
  bool listen_addresses_given = false;  // the first flag replaces the default
  std::string web_config_file;
  std::size_t web_max_requests = 40;
  std::size_t web_max_connections = 1024;
  bool web_systemd_socket = false;
  std::string telemetry_path = "/metrics";
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  // The host's root filesystem as the exporter sees it (a container mounts
  // it elsewhere): nova.conf paths such as instances_path resolve under it.
  std::string rootfs = "/";
  // The cgroup root (--path.cgroupfs); empty: <sysfs>/fs/cgroup.
  std::string cgroupfs;
  std::string nova_config = "/etc/nova/nova.conf";
  bool nova_config_explicit = false;
  std::optional<CpuSet> guest_cpus;
  // Enabled collector names (--[no-]collector.NAME; the names and defaults
  // come from the collector table, exporter/collector_table.cc).
  std::set<std::string> collectors;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kLogfmt;
  std::size_t max_violation_info = 100;
  // Pin the exporter's own threads to host-role CPUs when a guest set is known.
  bool confine_to_host_cpus = true;
  // How often the isolation worker re-checks nova.conf (also on SIGHUP).
  double isolation_refresh_seconds = 5;
  // process_* and hostiso_exporter_build_info.
  bool exporter_metrics = true;
  // libvirt source (metrics/libvirt).
  std::string libvirt_uri = "qemu:///system";
  double libvirt_timeout_seconds = 5;
  double libvirt_refresh_seconds = 30;
  // Thread census (metrics/census).
  double census_interval_seconds = 15;
  std::size_t census_top_comms = 10;
  // cgroup collector: host slices watched besides system.slice, user.slice
  // and init.scope (--cgroup.host-slice), relative to the cgroup root.
  std::vector<std::string> cgroup_host_slices;
  bool show_version = false;
  bool show_help = false;
};

// Parses argv (without argv[0]). Accepts "--flag=value" and "--flag value";
// boolean flags also take "--no-flag". Errors are one line, naming the flag.
Expected<Flags> ParseFlags(const std::vector<std::string>& args);
std::string HelpText();

}  // namespace hostiso
