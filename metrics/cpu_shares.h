#pragma once

#include <array>
#include <map>
#include <vector>

namespace hostiso {

// How one CPU's time was split over the interval between two reads of
// /proc/stat, as fractions of that interval (each in [0, 1], summing to 1
// when the CPU was online throughout).
struct CpuShare {
  int cpu = 0;
  double host = 0, guest = 0, steal = 0, idle = 0;
};

// The cpu collector's per-CPU shares between its last two scrapes: what the
// status page shows, so that a page view never reads /proc/stat again.
struct CpuShares {
  double interval_seconds = 0;  // wall time between the two reads
  std::vector<CpuShare> cpus;   // by CPU number; CPUs in both reads only
};

// Consumer times (seconds: host, guest, steal, idle) of each CPU at one read.
using CpuConsumerSeconds = std::map<int, std::array<double, 4>>;

// Pure: the shares between two reads. A CPU missing from either read, or
// whose counters did not move, is left out (nothing to divide).
CpuShares SharesBetween(const CpuConsumerSeconds& before,
                        const CpuConsumerSeconds& after,
                        double interval_seconds);

}  // namespace hostiso
