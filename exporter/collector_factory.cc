#include "exporter/collector_factory.h"

#include "exporter/component_registration.h"
#include "metrics/collectors/cpu_collector.h"
#include "metrics/collectors/isolation_collector.h"

namespace hostiso {

CollectorSet MakeCollectors(
    const Flags& flags, const std::shared_ptr<IsolationSource>& isolation,
    const std::shared_ptr<ViolationRegistry>& violations) {
  CollectorSet set;
  auto enabled = [&](const char* name) {
    return flags.collectors.count(name) > 0;
  };
  if (enabled("cpu"))
    set.collectors.push_back(std::make_unique<CpuCollector>(flags.procfs));
  if (enabled("isolation"))
    set.collectors.push_back(std::make_unique<IsolationCollector>());
  ComponentDeps deps{isolation, violations,
                     std::make_shared<GuestInventoryHolder>()};
  RegisterLibvirtCollectors(flags, deps, set);
  RegisterCensusCollectors(flags, deps, set);
  RegisterHeadroomCollectors(flags, deps, set);
  return set;
}

}  // namespace hostiso
