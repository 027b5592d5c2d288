#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// Where a CPU's host/guest split comes from (hostiso_cpu_accounting_source).
enum class AccountingSource {
  // /proc/stat's guest column (guest+guest_nice) accounts the guests' time.
  kProcStat,
  // It does not (nested KVM counts a guest as system time, TCG vCPUs are
  // ordinary user threads): the run time of the vCPU threads pinned to the
  // CPU, from /proc/PID/task/TID/schedstat, is the guest share instead.
  kVcpuThreads,
  // The sched collector's BPF programs measured, at every context switch,
  // how long vCPU threads held the CPU: the guest share is that time,
  // whatever /proc/stat's guest column says (it includes the KVM exit
  // handling done in the vCPU threads, which the column counts as system).
  kSched,
};
std::string_view AccountingSourceName(AccountingSource source);

// One CPU's cumulative /proc/stat time, in clock ticks, by consumer (the
// order of hostiso_cpu_seconds_total's consumers).
enum ConsumerIndex { kHost = 0, kGuest = 1, kSteal = 2, kIdle = 3 };
using ConsumerTicks = std::array<double, 4>;

// What the split keeps per CPU between scrapes. The published counters are
// built from deltas, so a change of source only changes how later deltas are
// split: they never step backwards and always add up to the CPU's time.
struct CpuAccount {
  bool seen = false;
  ConsumerTicks high_water{};  // largest raw value seen, per consumer
  ConsumerTicks published{};   // what hostiso_cpu_seconds_total serves (ticks)
  AccountingSource source = AccountingSource::kProcStat;
  int streak = 0;  // consecutive scrapes whose evidence names the other source
  // vCPU run time not yet placed because it exceeded the CPU's busy time in
  // its interval (the two are read a moment apart); placed later when the
  // CPU has busy time to spare, capped so that it cannot pile up.
  double carry = 0;
};

// Scrapes in a row whose evidence must name the other source before a CPU
// switches: one odd interval (a guest booting, a tick of skew) never flips it.
inline constexpr int kAccountingSwitchAfter = 3;

// Advances one CPU's account by one scrape. `raw` is /proc/stat's split
// (SplitByConsumer) now; `vcpu_run` the run time, in ticks, of the vCPU
// threads pinned to this CPU since the previous scrape (VcpuRunTracker);
// `sched_vcpu` the time, in ticks, vCPU threads held this CPU since the
// previous scrape as the sched collector measured it (nullopt when it is
// off, failed, or has no baseline for this CPU yet). Pure: no I/O.
//  - With `sched_vcpu`, the source is kSched at once (no vote: it is a
//    measurement, not an inference) and the busy increase is split as
//    guest += min(sched_vcpu + carry, busy); without it a CPU in kSched
//    falls back to kProcStat and the vote below resumes.
//  - First sight of the CPU: the published counters start at /proc/stat's
//    own split (the only account of the time before the exporter ran).
//  - The raw total went backwards (a counter reset or wrap): the new values
//    become the baseline and nothing is added this scrape.
//  - Otherwise each consumer grows by its raw increase above its high-water
//    mark (iowait, inside idle, can step back by a tick; that is not counted
//    twice). In source kVcpuThreads the busy increase (host+guest) is split
//    as guest += min(vCPU run + carry, busy), host += the rest.
//  - The source switches after kAccountingSwitchAfter scrapes in a row whose
//    evidence names the other one: vCPU threads ran here (at least 5 % of
//    the interval) and the guest column grew by less than half of that →
//    kVcpuThreads; the guest column grew consistently with them, or grew
//    with no pinned vCPU seen → kProcStat. No evidence keeps the source.
void AdvanceCpuAccount(CpuAccount& account, const ConsumerTicks& raw,
                       double vcpu_run,
                       std::optional<double> sched_vcpu = std::nullopt);

// One pinned vCPU thread as sampled at this scrape.
struct PinnedVcpuRun {
  pid_t tid = 0;
  int cpu = -1;              // the one CPU its affinity allows
  std::uint64_t run_ns = 0;  // schedstat run time since the thread started
};

// Turns per-thread cumulative run times into per-CPU run time since the
// previous scrape. Only a thread seen at the previous scrape, pinned to the
// same CPU, whose run time did not go backwards contributes: a new or
// re-appearing thread (or a reused thread id) only sets its baseline, since
// its earlier run time may lie anywhere in the past. Pure: no I/O.
class VcpuRunTracker {
 public:
  // Run time (ns) since the previous call per CPU, indexed by CPU number
  // (sized to the largest CPU seen).
  std::vector<std::uint64_t> Advance(const std::vector<PinnedVcpuRun>& now);

 private:
  struct Last {
    int cpu;
    std::uint64_t run_ns;
  };
  std::unordered_map<pid_t, Last> last_;
};

// Cumulative time (ns) vCPU threads held each CPU, indexed by CPU number
// (nullopt: not measured), read when called: the sched collector's BPF maps.
using VcpuHeldReader =
    std::function<Expected<std::vector<std::optional<std::uint64_t>>>()>;

// How the cpu collector reaches the sched collector, which is built after it:
// the sched factory sets `read` while the collectors are built (before any
// scrape, single-threaded); unset when sched is disabled.
struct VcpuHeldFeed {
  VcpuHeldReader read;
};

// Turns VcpuHeldReader's cumulative times into time since the previous
// call, per CPU: nullopt for a CPU without a baseline (first sight, or its
// time went backwards: the programs were reloaded). Pure: no I/O.
class VcpuHeldTracker {
 public:
  std::vector<std::optional<std::uint64_t>> Advance(
      const std::vector<std::optional<std::uint64_t>>& now);
  // The source failed: the next Advance() only sets baselines.
  void Reset() { last_.clear(); }

 private:
  std::vector<std::optional<std::uint64_t>> last_;
};

}  // namespace hostiso
