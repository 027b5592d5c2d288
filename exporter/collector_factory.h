#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "exporter/flags.h"
#include "metrics/collector.h"
#include "metrics/isolation_source.h"
#include "metrics/violations.h"

namespace hostiso {

// The enabled collectors, plus how to stop their background workers.
struct CollectorSet {
  std::vector<std::unique_ptr<Collector>> collectors;
  std::vector<std::function<void()>> stoppers;
  void Stop() {
    for (auto& s : stoppers) s();
  }
};

// Builds the collectors --collector.NAME enabled, in a fixed order.
CollectorSet MakeCollectors(
    const Flags& flags, const std::shared_ptr<IsolationSource>& isolation,
    const std::shared_ptr<ViolationRegistry>& violations);

}  // namespace hostiso
