#include "metrics/collectors/interrupts_collector.h"

#include "metrics/family_builder.h"
#include "metrics/procfs/read_file.h"

namespace hostiso {

InterruptsCollector::InterruptsCollector(const HostPaths& paths)
    : path_(paths.Proc("interrupts")) {}

Expected<void> InterruptsCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  HOSTISO_ASSIGN_OR_RETURN(InterruptTable table,
                           ReadAndParse(path_, ParseInterrupts));
  const CpuRoles& roles = ctx.isolation.roles;
  // Without a guest set every CPU is "shared": nothing to report then.
  CpuSet watch = roles.IsolationConfigured() ? roles.GuestCpus() : CpuSet();
  std::vector<detail::InterruptTracker::Fired> fired =
      tracker_.Update(table, watch);
  std::vector<Violation> violations;
  violations.reserve(fired.size());
  for (auto& f : fired)
    violations.push_back(Violation{std::move(f.subject), std::move(f.cpus)});
  ctx.violations.Report(ViolationKind::kIrqOnGuestCpu, std::move(violations));

  auto family =
      FamilyBuilder::Counter("hostiso_cpu_device_interrupts_total",
                             "Device interrupts (numbered rows of "
                             "/proc/interrupts) handled by each CPU.");
  // CPUs in the header only: an offline CPU's series pauses and resumes where
  // it stopped (the total is kept), which Prometheus reads as a gap.
  const auto& totals = tracker_.PerCpuTotals();
  for (int cpu : table.cpus) {
    auto it = totals.find(cpu);
    family.Add({{"cpu", std::to_string(cpu)}},
               static_cast<double>(it == totals.end() ? 0 : it->second));
  }
  std::move(family).AppendTo(out);
  return Ok();
}

}  // namespace hostiso
