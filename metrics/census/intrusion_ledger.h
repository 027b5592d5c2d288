#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "metrics/cpu_set.h"

namespace hostiso::detail {

// Accumulates intrusion time (clock ticks) per guest-role CPU and process name
// and decides what hostiso_intrusion_seconds_total{cpu,comm} shows:
// - per-CPU kernel threads under comm "kernel";
// - the `top_n` process names by accumulated time (over all CPUs, since the
//   exporter started) under their own name;
// - everything else under "other" (also a process literally named "kernel" or
//   "other": the two names are reserved).
// Every series only ever grows. A name's series counts the time it used while
// it was in the top set. When a name drops out of the top set its series
// disappears from the exposition (its value is frozen, not moved: moving it to
// "other" would make "other" jump and fake a rate); its new time goes to
// "other". If it comes back, its series resumes from the frozen value. So
// rate() over each series and sum(rate()) over all of them stay right, and the
// label set holds at most top_n + 2 names per CPU. Ranking on all-time totals
// gives the set a natural hysteresis: it only changes when a name overtakes
// another over the exporter's lifetime.
// Not thread-safe, and holds no lock on purpose: it belongs to one
// ThreadCensus, which runs on the census worker's thread only; scrapes see
// the Exposition() copied into the published CensusResult (Latest<T>).
class IntrusionLedger {
 public:
  static constexpr std::string_view kKernel = "kernel";
  static constexpr std::string_view kOther = "other";

  // `max_tracked` bounds the names ranked (hosts that churn through unique
  // names, e.g. numbered workers): beyond it a new name goes to "other".
  explicit IntrusionLedger(std::size_t top_n, std::size_t max_tracked = 4096)
      : top_n_(top_n), max_tracked_(max_tracked) {}

  struct Delta {
    std::string comm;  // process name; ignored when `kernel`
    int cpu = 0;
    std::uint64_t ticks = 0;
    bool kernel = false;  // a per-CPU kernel thread
  };
  // Adds one census's deltas. `zero_cpus` get "kernel" and "other" series even
  // before anything intruded there (so rate() sees the first increase).
  void Add(const std::vector<Delta>& deltas, const CpuSet& zero_cpus);

  struct Series {
    int cpu = 0;
    std::string comm;
    std::uint64_t ticks = 0;
  };
  // Ordered by cpu, then comm.
  std::vector<Series> Exposition() const;
  const std::set<std::string>& TopComms() const { return top_; }

 private:
  std::size_t top_n_;
  std::size_t max_tracked_;
  std::unordered_map<std::string, std::uint64_t> totals_;  // for ranking
  std::set<std::string> top_;
  std::map<std::pair<int, std::string>, std::uint64_t> named_;  // (cpu, comm)
  std::map<int, std::uint64_t> kernel_;
  std::map<int, std::uint64_t> other_;
};

}  // namespace hostiso::detail
