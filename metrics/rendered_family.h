#pragma once

#include <prometheus/metric_family.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace hostiso {

// A family whose series change only with an input its collector tracks (the
// CPU layout for hostiso_cpu_topology_info: 256 series on a 256-CPU host),
// with its exposition text written once for that input instead of at every
// scrape. Immutable once made: scrapes in flight share it.
struct RenderedFamily {
  prometheus::MetricFamily family;
  // TextExposition's text for `family` alone.
  std::string text;

  static std::shared_ptr<const RenderedFamily> Make(
      prometheus::MetricFamily family);
};

// Where a RenderedFamily goes in a scrape served as text: its text is
// written just before the family at `index` of the scrape's families (after
// the last one when `index` is their count). Collectors only ever append to
// the families, so an index taken when the slot was made stays right.
struct RenderedSlot {
  std::size_t index = 0;
  std::shared_ptr<const RenderedFamily> family;
};

}  // namespace hostiso
