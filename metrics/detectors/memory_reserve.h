#pragma once

#include <vector>

#include "metrics/violations.h"

namespace hostiso {

// memory_reserve_breach: subject "memory" when the host uses more than its
// reservation (headroom < 0). A Nova host with reserved_host_memory_mb = 0
// lets guests be placed on all of MemTotal, so any host use breaches it: that
// is reported too.
std::vector<Violation> DetectMemoryReserveBreach(double headroom_bytes);

}  // namespace hostiso
