#include "metrics/detectors/memory_reserve.h"

namespace hostiso {

std::vector<Violation> DetectMemoryReserveBreach(double headroom_bytes) {
  if (headroom_bytes < 0) return {Violation{"memory", CpuSet{}}};
  return {};
}

}  // namespace hostiso
