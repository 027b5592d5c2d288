#include "metrics/collectors/isolation_collector.h"

#include <string>

#include "metrics/detectors/isolcpus_mismatch.h"
#include "metrics/family_builder.h"

namespace hostiso {
namespace {

std::string OptionalList(const std::optional<NovaConfig>& nova,
                         std::optional<CpuSet> NovaConfig::*field) {
  if (!nova || !((*nova).*field)) return "";
  return ((*nova).*field)->ToString();
}

// hostiso_config_info: what was read, as canonical CPU lists, and where the
// kernel's lists came from (sysfs, or the fallbacks of cpu_topology.h).
void AppendConfigInfo(const IsolationSnapshot& iso,
                      std::vector<prometheus::MetricFamily>& out) {
  const bool flag = iso.guest_sets.source == GuestSetSource::kFlag;
  const char* source = flag ? "flag" : iso.nova ? "nova" : "none";
  const std::string path = flag       ? "--isolation.guest-cpus"
                           : iso.nova ? iso.nova_path
                                      : "";
  std::string dedicated =
      OptionalList(iso.nova, &NovaConfig::cpu_dedicated_set);
  std::string shared = OptionalList(iso.nova, &NovaConfig::cpu_shared_set);
  std::string pin = OptionalList(iso.nova, &NovaConfig::vcpu_pin_set);
  if (flag) {
    // The flag replaces nova.conf's sets; show it as the legacy one.
    dedicated.clear();
    shared.clear();
    pin = iso.guest_sets.legacy.ToString();
  }
  const bool kernel = iso.topology_ok;
  const CpuTopology& t = iso.topology;
  auto info = FamilyBuilder::Gauge(
      "hostiso_config_info",
      "What the exporter read: guest CPU sets, kernel isolation, images_type "
      "(canonical CPU lists), and where the kernel's lists came from.");
  info.Add({{"source", source},
            {"path", path},
            {"cpu_dedicated_set", dedicated},
            {"cpu_shared_set", shared},
            {"vcpu_pin_set", pin},
            {"isolcpus", kernel ? t.isolated.ToString() : ""},
            {"nohz_full", kernel ? t.nohz_full.ToString() : ""},
            {"images_type", iso.nova ? iso.nova->images_type : ""},
            {"cpus_source", kernel ? t.cpus_source : "unknown"},
            {"isolcpus_source", kernel ? t.isolated_source : "unknown"},
            {"nohz_full_source", kernel ? t.nohz_full_source : "unknown"}},
           1);
  std::move(info).AppendTo(out);
}

// One series per CPU in each family: refilled in the pool's storage.
void AppendPerCpu(const IsolationSnapshot& iso, FamilyPool* pool,
                  std::vector<prometheus::MetricFamily>& out) {
  const CpuTopology& topo = iso.topology;
  auto role = FamilyBuilder::Gauge("hostiso_cpu_role",
                                   "Role of each CPU: host, dedicated, shared "
                                   "or guest (legacy vcpu_pin_set).",
                                   pool);
  auto isolated = FamilyBuilder::Gauge(
      "hostiso_cpu_isolated",
      "1 when the kernel isolates the CPU (/sys/devices/system/cpu/isolated, "
      "or isolcpus= where sysfs lacks the file).",
      pool);
  auto nohz = FamilyBuilder::Gauge(
      "hostiso_cpu_nohz_full",
      "1 when the CPU is in /sys/devices/system/cpu/nohz_full (or nohz_full= "
      "where sysfs lacks the file).",
      pool);
  auto online = FamilyBuilder::Gauge("hostiso_cpu_online",
                                     "1 when the present CPU is online.", pool);
  for (int cpu : topo.present.Members()) {
    std::string c = std::to_string(cpu);
    role.Add({{"cpu", c}, {"role", CpuRoleName(iso.roles.RoleOf(cpu))}}, 1);
    online.Add({{"cpu", c}}, topo.online.Contains(cpu) ? 1 : 0);
    if (topo.online.Contains(cpu)) {
      isolated.Add({{"cpu", c}}, topo.isolated.Contains(cpu) ? 1 : 0);
      nohz.Add({{"cpu", c}}, topo.nohz_full.Contains(cpu) ? 1 : 0);
    }
  }
  std::move(role).AppendTo(out);
  std::move(isolated).AppendTo(out);
  std::move(nohz).AppendTo(out);
  std::move(online).AppendTo(out);
}

}  // namespace

Expected<void> IsolationCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  const IsolationSnapshot& iso = ctx.isolation;
  auto configured =
      FamilyBuilder::Gauge("hostiso_isolation_configured",
                           "1 when a guest CPU set was found (nova.conf or "
                           "--isolation.guest-cpus).");
  configured.Add({}, iso.roles.IsolationConfigured() ? 1 : 0);
  std::move(configured).AppendTo(out);
  AppendConfigInfo(iso, out);
  if (!iso.topology_ok) return Error(iso.topology_error);
  AppendPerCpu(iso, ctx.families, out);
  // With no guest set configured every CPU is shared, so an isolated CPU is
  // reported too: floating guests lose load balancing there (the contract).
  ctx.violations.Report(ViolationKind::kIsolcpusMismatch,
                        DetectIsolcpusMismatch(iso.roles, iso.topology.isolated,
                                               iso.topology.online));
  return Ok();
}

}  // namespace hostiso
