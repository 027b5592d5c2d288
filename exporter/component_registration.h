#pragma once

#include <memory>

#include "exporter/collector_factory.h"
#include "exporter/flags.h"
#include "metrics/guest_inventory.h"
#include "metrics/isolation_source.h"
#include "metrics/violations.h"

namespace hostiso {

// What the components share: the isolation snapshot source, the violation
// registry and the guest inventory the libvirt worker publishes.
struct ComponentDeps {
  std::shared_ptr<IsolationSource> isolation;
  std::shared_ptr<ViolationRegistry> violations;
  std::shared_ptr<GuestInventoryHolder> guests;
};

// Each appends its enabled collectors (and their background workers'
// stoppers) to `set`. One file each: register_libvirt.cc, register_census.cc,
// register_headroom.cc. Called in this order: libvirt first, since the
// others read the guest inventory it publishes.
void RegisterLibvirtCollectors(const Flags& flags, const ComponentDeps& deps,
                               CollectorSet& set);
void RegisterCensusCollectors(const Flags& flags, const ComponentDeps& deps,
                              CollectorSet& set);
void RegisterHeadroomCollectors(const Flags& flags, const ComponentDeps& deps,
                                CollectorSet& set);

}  // namespace hostiso
