#include "metrics/procfs/interrupts.h"

#include <cctype>

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
          return Error(where + "header expected 'CPU<n>' columns, got '" +
                       std::string(f) + "'");
        }
        table.cpus.push_back(static_cast<int>(*n));
      }
      if (table.cpus.empty()) {
        return Error(where + "header has no CPU columns");
      }
      have_header = true;
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Error(where + "expected 'IRQ:' at the start of '" +
                   std::string(line) + "'");
    }
    InterruptRow row;
    row.irq = std::string(TrimSpace(line.substr(0, colon)));
    if (row.irq.empty()) {
      return Error(where + "empty IRQ name");
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
      return Error(where + "IRQ " + row.irq + " has " +
                   std::to_string(row.counts.size()) +
                   " count columns, the header " +
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
  if (!have_header) return Error("empty /proc/interrupts: no header line");
  return table;
}

}  // namespace hostiso
