#include "exporter/flags.h"

#include <cctype>
#include <functional>
#include <map>
#include <sstream>
#include <string_view>

#include "exporter/collector_table.h"
#include "exporter/http_server.h"
#include "metrics/text.h"

namespace hostiso {

namespace {

struct FlagDef {
  std::string name;
  bool is_bool;
  std::string help;
  std::function<Expected<void>(Flags&, const std::string&)> set;
};

Expected<void> ParseSeconds(const char* flag, const std::string& v, double min,
                            double max, double* out) {
  auto d = ParseDouble(v);
  if (!d || !(*d >= min && *d <= max)) {
    return Error(std::string(flag) + ": expected seconds between " +
                 std::to_string(min).substr(0, 3) + " and " +
                 std::to_string(static_cast<int>(max)) + ", got '" + v + "'");
  }
  *out = *d;
  return Ok();
}

// A cgroup named by flag: relative to the cgroup root, and never above it.
Expected<std::string> ValidateCgroupPath(std::string_view item) {
  const std::string quoted = "'" + std::string(item) + "'";
  if (item.empty()) return Error("expected a cgroup path, got an empty one");
  if (item.front() == '/')
    return Error("expected a path relative to the cgroup root, got " + quoted);
  for (std::string_view part : Split(item, '/')) {
    if (part.empty() || part == "." || part == "..")
      return Error("expected path components without '', '.' or '..', got " +
                   quoted);
  }
  return std::string(item);
}

const std::vector<FlagDef>& Defs() {
  static const std::vector<FlagDef> kDefs = {
      // Web layer: listen addresses, telemetry path, TLS/auth, limits.
      {"web.listen-address", false,
       "Address to listen on: host:port, [IPv6]:port or :port (every IPv4 "
       "and IPv6 address). Repeat the flag to listen on several. Default "
       ":9933.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         auto port = detail::ToCivetListeningPort(v);
         if (!port) return port.failure();
         if (!f.listen_addresses_given) f.listen_addresses.clear();
         f.listen_addresses_given = true;
         f.listen_addresses.push_back(v);
         return Ok();
       }},
      {"web.telemetry-path", false,
       "Path under which to expose metrics. Default /metrics.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty() || v.front() != '/' || v == "/")
           return Error(
               "--web.telemetry-path: expected a path starting with '/' "
               "(not '/'), got '" +
               v + "'");
         f.telemetry_path = v;
         return Ok();
       }},
      {"web.config.file", false,
       "Web config (exporter-toolkit format): TLS, client certificates, "
       "basic auth, headers. Re-read when it or a certificate changes.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty()) return Error("--web.config.file: expected a file path");
         f.web_config_file = v;
         return Ok();
       }},
      {"web.max-requests", false,
       "Scrapes served at once; more get 503 at once. 0: no limit. "
       "Default 40.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         auto n = ParseUint(v);
         if (!n || *n > 100000)
           return Error("--web.max-requests: expected 0-100000, got '" + v +
                        "'");
         f.web_max_requests = *n;
         return Ok();
       }},
      {"web.systemd-socket", true,
       "Serve the sockets systemd passes (socket activation, "
       "hostiso-exporter.socket) instead of --web.listen-address.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         f.web_systemd_socket = v == "true";
         return Ok();
       }},
      {"web.max-connections", false,
       "Connections served at once (worker threads); idle and slow clients "
       "each hold one for at most 5 s. Default 1024.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         auto n = ParseUint(v);
         if (!n || *n < 4 || *n > 16384)
           return Error("--web.max-connections: expected 4-16384, got '" + v +
                        "'");
         f.web_max_connections = *n;
         return Ok();
       }},
      {"path.procfs", false, "procfs mountpoint. Default /proc.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty()) return Error("--path.procfs: expected a directory");
         f.procfs = v;
         return Ok();
       }},
      {"path.sysfs", false, "sysfs mountpoint. Default /sys.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty()) return Error("--path.sysfs: expected a directory");
         f.sysfs = v;
         return Ok();
       }},
      {"path.cgroupfs", false,
       "cgroup filesystem root (cgroup2, or the v1 per-controller "
       "hierarchies). Default <path.sysfs>/fs/cgroup.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty()) return Error("--path.cgroupfs: expected a directory");
         f.cgroupfs = v;
         return Ok();
       }},
      {"path.rootfs", false,
       "Host root filesystem as seen by the exporter; nova.conf paths "
       "(instances_path, snapshots_directory) resolve under it. Default /.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty() || v.front() != '/') {
           return Error("--path.rootfs: expected an absolute directory, got '" +
                        v + "'");
         }
         f.rootfs = v;
         return Ok();
       }},
      {"nova.config", false,
       "nova.conf to read guest CPU sets and reservations from (re-read when "
       "it changes). "
       "Default /etc/nova/nova.conf; a missing default file is normal on "
       "non-Nova hosts.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty()) return Error("--nova.config: expected a file path");
         f.nova_config = v;
         f.nova_config_explicit = true;
         return Ok();
       }},
      {"isolation.guest-cpus", false,
       "CPU list reserved for guests on libvirt hosts without Nova (e.g. "
       "2-7,10); overrides nova.conf.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         auto set = ParseCpuList(v, CpuListSyntax::kNova);
         if (!set) return Error("--isolation.guest-cpus: " + set.error());
         if (set->Empty())
           return Error("--isolation.guest-cpus: expected at least one CPU");
         f.guest_cpus = *set;
         return Ok();
       }},
      {"log.level", false, "Log level: debug, info, warn, error. Default info.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         HOSTISO_ASSIGN_OR_RETURN(
             f.log_level, log::ParseLevel(v).WithContext("--log.level"));
         return Ok();
       }},
      {"log.format", false, "Log format: logfmt or json. Default logfmt.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         HOSTISO_ASSIGN_OR_RETURN(
             f.log_format, log::ParseFormat(v).WithContext("--log.format"));
         return Ok();
       }},
      {"violations.max-info", false,
       "Most hostiso_violation_info series exposed per scrape (the gauges "
       "still count all). Default 100.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         auto n = ParseUint(v);
         if (!n || *n > 100000)
           return Error("--violations.max-info: expected 0-100000, got '" + v +
                        "'");
         f.max_violation_info = *n;
         return Ok();
       }},
      {"libvirt.uri", false,
       "libvirt URI, opened read-only. Default qemu:///system.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         if (v.empty()) return Error("--libvirt.uri: expected a URI");
         f.libvirt_uri = v;
         return Ok();
       }},
      {"libvirt.timeout", false,
       "Deadline in seconds for one libvirt refresh; scrapes never wait for "
       "libvirt. Default 5.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         return ParseSeconds("--libvirt.timeout", v, 0.1, 600,
                             &f.libvirt_timeout_seconds);
       }},
      {"libvirt.refresh-interval", false,
       "Seconds between libvirt refreshes of domains, metadata and pinning "
       "(also refreshed on "
       "domain events). Default 30.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         return ParseSeconds("--libvirt.refresh-interval", v, 1, 3600,
                             &f.libvirt_refresh_seconds);
       }},
      {"isolation.refresh-interval", false,
       "Seconds between checks of nova.conf for changes (also re-read on "
       "SIGHUP); the kernel's isolation files are re-read at every scrape. "
       "Default 5.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         return ParseSeconds("--isolation.refresh-interval", v, 1, 3600,
                             &f.isolation_refresh_seconds);
       }},
      {"web.disable-exporter-metrics", true,
       "Leave out the exporter's own process_* metrics and "
       "hostiso_exporter_build_info.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         f.exporter_metrics = v != "true";
         return Ok();
       }},
      {"census.interval", false, "Seconds between thread censuses. Default 15.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         return ParseSeconds("--census.interval", v, 1, 3600,
                             &f.census_interval_seconds);
       }},
      {"census.top-comms", false,
       "Process names kept as their own comm label in "
       "hostiso_intrusion_seconds_total; the rest "
       "are 'other'. Default 10.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         auto n = ParseUint(v);
         if (!n || *n > 1000)
           return Error("--census.top-comms: expected 0-1000, got '" + v + "'");
         f.census_top_comms = *n;
         return Ok();
       }},
      {"cgroup.host-slice", false,
       "A host cgroup (slice, scope or service) whose cpuset must exclude "
       "guest-role CPUs, besides system.slice, user.slice and init.scope: a "
       "path relative to the cgroup root (e.g. ovs.slice or "
       "system.slice/ovs-vswitchd.service). Repeat the flag or give a comma "
       "list.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         for (std::string_view item : Split(v, ',')) {
           auto slice = ValidateCgroupPath(item);
           if (!slice) return Error("--cgroup.host-slice: " + slice.error());
           f.cgroup_host_slices.push_back(*slice);
         }
         return Ok();
       }},
      {"runtime.confine-to-host-cpus", true,
       "Keep the exporter's own threads on host-role CPUs when a guest set is "
       "known. Default on.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         f.confine_to_host_cpus = v == "true";
         return Ok();
       }},
      {"collector.disable-defaults", true,
       "Start with every collector off; enable with --collector.NAME.",
       // Applied by ParseFlags before the per-collector flags, whatever the
       // order.
       [](Flags&, const std::string&) -> Expected<void> { return Ok(); }},
      {"version", true, "Print the version and exit.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         f.show_version = v == "true";
         return Ok();
       }},
      {"help", true, "Show this help and exit.",
       [](Flags& f, const std::string& v) -> Expected<void> {
         f.show_help = v == "true";
         return Ok();
       }},
  };
  return kDefs;
}

const FlagDef* FindDef(const std::string& name) {
  for (const FlagDef& d : Defs())
    if (d.name == name) return &d;
  return nullptr;
}

bool IsCollector(const std::string& name) {
  for (const CollectorSpec& c : CollectorTable())
    if (c.name == name) return true;
  return false;
}

}  // namespace

Expected<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  for (const CollectorSpec& c : CollectorTable())
    if (c.enabled_by_default) flags.collectors.emplace(c.name);
  // --collector.disable-defaults must apply before the per-collector flags,
  // whatever their order.
  for (const std::string& a : args) {
    if (a == "--collector.disable-defaults" ||
        a == "--collector.disable-defaults=true")
      flags.collectors.clear();
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      flags.show_help = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      return Error("unexpected argument '" + arg +
                   "' (flags start with --; see --help)");
    }
    std::string body = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body.resize(eq);
    }
    bool negated = false;
    std::string name = body;
    if (!FindDef(name) && name.rfind("no-", 0) == 0) {
      negated = true;
      name = name.substr(3);
    }
    if (name.rfind("collector.", 0) == 0 &&
        name != "collector.disable-defaults") {
      std::string collector = name.substr(10);
      if (!IsCollector(collector)) {
        return Error("unknown collector in --" + body +
                     " (see --help for the list)");
      }
      bool on = !negated;
      if (value) {
        if (negated || (*value != "true" && *value != "false"))
          return Error("--" + body + ": expected no value, =true or =false");
        on = *value == "true";
      }
      if (on) {
        flags.collectors.insert(collector);
      } else {
        flags.collectors.erase(collector);
      }
      continue;
    }
    const FlagDef* def = FindDef(name);
    if (def == nullptr)
      return Error("unknown flag --" + body + " (see --help)");
    if (def->is_bool) {
      std::string v = negated ? "false" : "true";
      if (value) {
        if (negated || (*value != "true" && *value != "false"))
          return Error("--" + body + ": expected no value, =true or =false");
        v = *value;
      }
      if (auto set = def->set(flags, v); !set) return set.failure();
      continue;
    }
    if (negated) return Error("unknown flag --" + body + " (see --help)");
    if (!value) {
      if (i + 1 >= args.size())
        return Error("--" + name + ": expected a value");
      value = args[++i];
    }
    if (auto set = def->set(flags, *value); !set) return set.failure();
  }
  return flags;
}

std::string HelpText() {
  std::ostringstream out;
  out << "usage: hostiso_exporter [flags]\n\n"
         "Prometheus exporter for CPU, memory and disk isolation between a KVM "
         "host\n"
         "and its guests (OpenStack Nova or plain libvirt).\n\nFlags:\n";
  for (const FlagDef& d : Defs()) {
    out << "  --" << (d.is_bool ? "[no-]" : "") << d.name
        << (d.is_bool ? "" : "=VALUE") << "\n"
        << "      " << d.help << "\n";
  }
  out << "\nCollectors (--[no-]collector.NAME):\n";
  for (const CollectorSpec& c : CollectorTable()) {
    out << "  " << c.name
        << (c.enabled_by_default ? " [default on]" : " [default off]") << ": "
        << c.help << "\n";
  }
  return out.str();
}

}  // namespace hostiso
