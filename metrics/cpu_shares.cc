#include "metrics/cpu_shares.h"

#include <algorithm>

namespace hostiso {

CpuShares SharesBetween(const CpuConsumerSeconds& before,
                        const CpuConsumerSeconds& after,
                        double interval_seconds) {
  CpuShares out;
  out.interval_seconds = interval_seconds;
  for (const auto& [cpu, now] : after) {
    auto it = before.find(cpu);
    if (it == before.end()) continue;
    std::array<double, 4> d{};
    double total = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      // The collector keeps counters monotonic; clamp anyway so a share is
      // never negative.
      d[i] = std::max(0.0, now[i] - it->second[i]);
      total += d[i];
    }
    if (total <= 0) continue;
    out.cpus.push_back(
        CpuShare{cpu, d[0] / total, d[1] / total, d[2] / total, d[3] / total});
  }
  return out;
}

}  // namespace hostiso
