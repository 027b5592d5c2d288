#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"

namespace hostiso {

// One row of /proc/interrupts (kernel/irq/proc.c show_interrupts and
// arch_show_interrupts on x86).
struct InterruptRow {
  std::string irq;  // "45", or "LOC", "NMI", ... for system interrupts
  // A numbered device interrupt. Rows named by letters (NMI, LOC, SPU, PMI,
  // IWI, RTR, RES, CAL, TLB, TRM, THR, DFR, MCE, MCP, ERR, MIS, PIN, NPI, PIW)
  // are per-CPU system interrupts or totals, not device interrupts.
  bool device = false;
  // Counts by column, in header order; may be shorter than the header (ERR and
  // MIS have one column).
  std::vector<std::uint64_t> counts;
  std::string name;  // the action (handler) names: last column, "nvme0q0"
  std::string description;  // everything after the counts, spaces collapsed
};

struct InterruptTable {
  std::vector<int> cpus;  // CPU number of each column ("CPU0 CPU2": offline
                          // CPUs are skipped)
  std::vector<InterruptRow> rows;
};

// Parses the whole of /proc/interrupts. Errors name the line number.
Expected<InterruptTable> ParseInterrupts(std::string_view text);

}  // namespace hostiso
