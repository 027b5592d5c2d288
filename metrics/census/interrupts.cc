#include "metrics/census/interrupts.h"

#include <cctype>

#include "metrics/family_builder.h"
#include "metrics/file_reader.h"
#include "metrics/text.h"

namespace hostiso {

Expected<InterruptTable> ParseInterrupts(std::string_view text) {
  InterruptTable table;
  std::vector<std::string_view> lines = Split(text, '\n');
  std::size_t lineno = 0;
  bool have_header = false;
  for (std::string_view raw : lines) {
    ++lineno;
    std::string_view line = TrimSpace(raw);
    if (line.empty()) continue;
    std::string where = "line " + std::to_string(lineno) + ": ";
    if (!have_header) {
      // "           CPU0       CPU1"
      for (std::string_view f : SplitFields(line)) {
        auto n =
            f.substr(0, 3) == "CPU" ? ParseUint(f.substr(3)) : std::nullopt;
        if (!n || *n >= static_cast<std::uint64_t>(CpuSet::kMaxCpus)) {
          return Expected<InterruptTable>::Error(
              where + "header expected 'CPU<n>' columns, got '" +
              std::string(f) + "'");
        }
        table.cpus.push_back(static_cast<int>(*n));
      }
      if (table.cpus.empty()) {
        return Expected<InterruptTable>::Error(where +
                                               "header has no CPU columns");
      }
      have_header = true;
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Expected<InterruptTable>::Error(
          where + "expected 'IRQ:' at the start of '" + std::string(line) +
          "'");
    }
    InterruptRow row;
    row.irq = std::string(TrimSpace(line.substr(0, colon)));
    if (row.irq.empty()) {
      return Expected<InterruptTable>::Error(where + "empty IRQ name");
    }
    row.device = ParseUint(row.irq).has_value();
    std::vector<std::string_view> fields = SplitFields(line.substr(colon + 1));
    std::size_t i = 0;
    for (; i < fields.size() && i < table.cpus.size(); ++i) {
      auto n = ParseUint(fields[i]);
      if (!n) break;  // fewer count columns than CPUs (ERR, MIS)
      row.counts.push_back(*n);
    }
    if (row.device && row.counts.size() != table.cpus.size()) {
      return Expected<InterruptTable>::Error(
          where + "IRQ " + row.irq + " has " +
          std::to_string(row.counts.size()) + " count columns, the header " +
          std::to_string(table.cpus.size()));
    }
    for (std::size_t j = i; j < fields.size(); ++j) {
      if (!row.description.empty()) row.description += ' ';
      row.description += fields[j];
    }
    if (i < fields.size()) {
      // The action list is last; several handlers of a shared IRQ are
      // printed as "a, b" (kernel/irq/proc.c).
      std::size_t first = fields.size() - 1;
      while (first > i + 1 && fields[first - 1].back() == ',') --first;
      for (std::size_t j = first; j < fields.size(); ++j) {
        if (!row.name.empty()) row.name += ' ';
        row.name += fields[j];
      }
    }
    table.rows.push_back(std::move(row));
  }
  if (!have_header)
    return Expected<InterruptTable>::Error(
        "empty /proc/interrupts: no header line");
  return table;
}

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

InterruptsCollector::InterruptsCollector(const std::string& procfs)
    : path_(JoinPath(procfs, "interrupts")) {}

bool InterruptsCollector::Collect(const ScrapeContext& ctx,
                                  std::vector<prometheus::MetricFamily>& out) {
  auto text = ReadFile(path_);
  if (!text) {
    latch_.Fail(text.error());
    return false;
  }
  auto table = ParseInterrupts(*text);
  if (!table) {
    latch_.Fail(path_ + ": " + table.error());
    return false;
  }
  latch_.Ok();
  const CpuRoles& roles = ctx.isolation.roles;
  // Without a guest set every CPU is "shared": nothing to report then.
  CpuSet watch = roles.IsolationConfigured() ? roles.GuestCpus() : CpuSet();
  std::vector<detail::InterruptTracker::Fired> fired =
      tracker_.Update(*table, watch);
  std::vector<Violation> violations;
  violations.reserve(fired.size());
  for (auto& f : fired)
    violations.push_back(Violation{std::move(f.subject), std::move(f.cpus)});
  ctx.violations.Report(ViolationKind::kIrqOnGuestCpu, std::move(violations));

  auto family =
      FamilyBuilder::Counter("hostiso_cpu_device_interrupts_total",
                             "Device interrupts (numbered rows of "
                             "/proc/interrupts) handled by each CPU.");
  // CPUs in the header only: an offline CPU's series pauses and resumes where
  // it stopped (the total is kept), which Prometheus reads as a gap.
  const auto& totals = tracker_.PerCpuTotals();
  for (int cpu : table->cpus) {
    auto it = totals.find(cpu);
    family.Add({{"cpu", std::to_string(cpu)}},
               static_cast<double>(it == totals.end() ? 0 : it->second));
  }
  std::move(family).AppendTo(out);
  return true;
}

}  // namespace hostiso
