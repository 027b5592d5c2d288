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

}  // namespace

bool IsolationCollector::Collect(const ScrapeContext& ctx,
                                 std::vector<prometheus::MetricFamily>& out) {
  const IsolationSnapshot& iso = ctx.isolation;

  auto configured =
      FamilyBuilder::Gauge("hostiso_isolation_configured",
                           "1 when a guest CPU set was found (nova.conf or "
                           "--isolation.guest-cpus).");
  configured.Add({}, iso.roles.IsolationConfigured() ? 1 : 0);
  std::move(configured).AppendTo(out);

  const char* source = iso.guest_sets.source == GuestSetSource::kFlag ? "flag"
                       : iso.nova                                     ? "nova"
                                                                      : "none";
  std::string path = iso.guest_sets.source == GuestSetSource::kFlag
                         ? "--isolation.guest-cpus"
                     : iso.nova ? iso.nova_path
                                : "";
  std::string dedicated =
      OptionalList(iso.nova, &NovaConfig::cpu_dedicated_set);
  std::string shared = OptionalList(iso.nova, &NovaConfig::cpu_shared_set);
  std::string pin = OptionalList(iso.nova, &NovaConfig::vcpu_pin_set);
  if (iso.guest_sets.source == GuestSetSource::kFlag) {
    // The flag replaces nova.conf's sets; show the flag's set as the legacy
    // one.
    dedicated.clear();
    shared.clear();
    pin = iso.guest_sets.legacy.ToString();
  }
  std::string isolcpus = iso.topology.has_isolated_file
                             ? iso.topology.isolated.ToString()
                             : iso.cmdline.isolcpus.ToString();
  auto info =
      FamilyBuilder::Gauge("hostiso_config_info",
                           "What the exporter read: guest CPU sets, kernel "
                           "isolation, images_type (canonical CPU lists).");
  info.Add({{"source", source},
            {"path", path},
            {"cpu_dedicated_set", dedicated},
            {"cpu_shared_set", shared},
            {"vcpu_pin_set", pin},
            {"isolcpus", isolcpus},
            {"nohz_full", iso.topology.nohz_full.ToString()},
            {"images_type", iso.nova ? iso.nova->images_type : ""}},
           1);
  std::move(info).AppendTo(out);

  if (!iso.topology_ok) {
    latch_.Fail(iso.topology_error);
    return false;
  }
  latch_.Ok();

  const CpuTopology& topo = iso.topology;
  auto role = FamilyBuilder::Gauge("hostiso_cpu_role",
                                   "Role of each CPU: host, dedicated, shared "
                                   "or guest (legacy vcpu_pin_set).");
  auto isolated = FamilyBuilder::Gauge(
      "hostiso_cpu_isolated",
      "1 when the kernel isolates the CPU (/sys/devices/system/cpu/isolated).");
  auto nohz = FamilyBuilder::Gauge(
      "hostiso_cpu_nohz_full",
      "1 when the CPU is in /sys/devices/system/cpu/nohz_full.");
  auto online = FamilyBuilder::Gauge("hostiso_cpu_online",
                                     "1 when the present CPU is online.");
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

  // Kernel isolation as applied (sysfs) is authoritative; fall back to the
  // command line on kernels without the isolated file.
  const CpuSet& kernel_isolated =
      topo.has_isolated_file ? topo.isolated : iso.cmdline.isolcpus;
  // With no guest set configured every CPU is shared, so an isolated CPU is
  // reported too: floating guests lose load balancing there (the contract).
  ctx.violations.Report(
      ViolationKind::kIsolcpusMismatch,
      DetectIsolcpusMismatch(iso.roles, kernel_isolated, topo.online));
  return true;
}

}  // namespace hostiso
