#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/collector.h"
#include "metrics/cpu_roles.h"
#include "metrics/expected.h"
#include "metrics/log.h"
#include "metrics/violations.h"

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

// Collector "interrupts": hostiso_cpu_device_interrupts_total{cpu} and the
// irq_on_guest_cpu violation. /proc/interrupts is parsed at every scrape
// (one read of a few KiB).
class InterruptsCollector : public Collector {
 public:
  explicit InterruptsCollector(const std::string& procfs);
  std::string_view Name() const override { return "interrupts"; }
  bool Collect(const ScrapeContext& ctx,
               std::vector<prometheus::MetricFamily>& out) override;

 private:
  std::string path_;
  detail::InterruptTracker tracker_;
  log::ErrorLatch latch_{"reading /proc/interrupts"};
};

}  // namespace hostiso
