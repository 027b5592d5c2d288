#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/procfs/interrupts.h"

namespace hostiso {

namespace detail {

// Follows device interrupt counts from one scrape to the next: per-CPU
// device interrupt counters that never decrease, and the device IRQs whose
// count grew on given CPUs since the previous Update().
class InterruptTracker {
 public:
  struct Fired {
    std::string subject;  // "irq 45 (nvme0q0)"
    CpuSet cpus;
  };
  // Returns the device IRQs that fired on a CPU of `watch` since the previous
  // call (nothing on the first call: there is no previous count).
  std::vector<Fired> Update(const InterruptTable& table, const CpuSet& watch);
  // Device interrupts per CPU since boot (as of the first Update) plus every
  // increase seen since: never decreases, even when an IRQ is freed (its row
  // disappears) or its counts restart.
  const std::map<int, std::uint64_t>& PerCpuTotals() const { return per_cpu_; }

 private:
  struct Known {
    std::string name;
    std::map<int, std::uint64_t> counts;  // by CPU number
  };
  bool first_ = true;
  std::map<std::string, Known> known_;  // by IRQ number
  std::map<int, std::uint64_t> per_cpu_;
};

}  // namespace detail

}  // namespace hostiso
