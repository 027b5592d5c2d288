#include "metrics/census/intrusion_ledger.h"

#include <algorithm>

namespace hostiso::detail {

void IntrusionLedger::Add(const std::vector<Delta>& deltas,
                          const CpuSet& zero_cpus) {
  for (const Delta& d : deltas) {
    if (d.kernel || d.ticks == 0 || d.comm == kKernel || d.comm == kOther)
      continue;
    auto it = totals_.find(d.comm);
    if (it != totals_.end()) {
      it->second += d.ticks;
    } else if (totals_.size() < max_tracked_) {
      totals_.emplace(d.comm, d.ticks);
    }
  }
  // Re-rank: highest total first, names break ties so the choice is stable.
  std::vector<std::pair<std::uint64_t, const std::string*>> ranked;
  ranked.reserve(totals_.size());
  for (const auto& [comm, ticks] : totals_) ranked.emplace_back(ticks, &comm);
  std::size_t n = std::min(top_n_, ranked.size());
  std::partial_sort(
      ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n),
      ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : *a.second < *b.second;
      });
  top_.clear();
  for (std::size_t i = 0; i < n; ++i) top_.insert(*ranked[i].second);

  for (int cpu : zero_cpus.Members()) {
    kernel_.try_emplace(cpu, 0);
    other_.try_emplace(cpu, 0);
  }
  for (const Delta& d : deltas) {
    if (d.ticks == 0) continue;
    if (d.kernel) {
      kernel_[d.cpu] += d.ticks;
    } else if (top_.count(d.comm) > 0) {
      named_[{d.cpu, d.comm}] += d.ticks;
    } else {
      other_[d.cpu] += d.ticks;
    }
  }
}

std::vector<IntrusionLedger::Series> IntrusionLedger::Exposition() const {
  std::map<std::pair<int, std::string>, std::uint64_t> all;
  for (const auto& [key, ticks] : named_) {
    if (top_.count(key.second) > 0) all[key] = ticks;
  }
  for (const auto& [cpu, ticks] : kernel_)
    all[{cpu, std::string(kKernel)}] = ticks;
  for (const auto& [cpu, ticks] : other_)
    all[{cpu, std::string(kOther)}] = ticks;
  std::vector<Series> out;
  out.reserve(all.size());
  for (const auto& [key, ticks] : all)
    out.push_back(Series{key.first, key.second, ticks});
  return out;
}

}  // namespace hostiso::detail
