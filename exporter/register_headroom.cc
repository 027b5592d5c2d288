#include "exporter/component_registration.h"

namespace hostiso {

void RegisterHeadroomCollectors(const Flags& /*flags*/,
                                const ComponentDeps& /*deps*/,
                                CollectorSet& /*set*/) {}

}  // namespace hostiso
