#include "exporter/component_registration.h"

namespace hostiso {

void RegisterLibvirtCollectors(const Flags& /*flags*/,
                               const ComponentDeps& /*deps*/,
                               CollectorSet& /*set*/) {}

}  // namespace hostiso
