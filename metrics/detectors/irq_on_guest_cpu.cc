#include "metrics/detectors/irq_on_guest_cpu.h"

namespace hostiso {

namespace detail {

std::vector<InterruptTracker::Fired> InterruptTracker::Update(
    const InterruptTable& table, const CpuSet& watch) {
  std::vector<Fired> fired;
  std::map<std::string, Known> next;
  for (const InterruptRow& row : table.rows) {
    if (!row.device) continue;
    Known& now = next[row.irq];
    now.name = row.name;
    auto prev_it = known_.find(row.irq);
    // The same number with another handler is another device: start afresh.
    const Known* prev =
        (prev_it != known_.end() && prev_it->second.name == row.name)
            ? &prev_it->second
            : nullptr;
    if (prev != nullptr) now.counts = prev->counts;  // keeps CPUs gone offline
    CpuSet cpus;
    for (std::size_t i = 0; i < row.counts.size(); ++i) {
      int cpu = table.cpus[i];
      std::uint64_t count = row.counts[i];
      // The whole count on the first scrape (since boot) and for an IRQ or
      // CPU not seen before (its counts started after the previous scrape).
      std::uint64_t delta = count;
      if (!first_ && prev != nullptr && prev->counts.count(cpu) > 0) {
        std::uint64_t before = prev->counts.at(cpu);
        delta = count >= before ? count - before : count;  // restarted counts
      }
      now.counts[cpu] = count;
      per_cpu_[cpu] += delta;
      if (!first_ && delta > 0 && watch.Contains(cpu)) cpus.Insert(cpu);
    }
    if (!cpus.Empty()) {
      std::string subject = "irq " + row.irq;
      if (!row.name.empty()) subject += " (" + row.name + ")";
      fired.push_back(Fired{std::move(subject), std::move(cpus)});
    }
  }
  for (int cpu : table.cpus) per_cpu_.try_emplace(cpu, 0);
  known_ = std::move(next);
  first_ = false;
  return fired;
}

}  // namespace detail

}  // namespace hostiso
