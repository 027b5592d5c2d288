#include "metrics/cpu_accounting.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "metrics/cpu_set.h"

namespace hostiso {
namespace {

// vCPU threads that ran less than this share of the interval say nothing
// about the guest column: a mostly idle guest's few ticks are within the
// column's own sampling error.
constexpr double kMinEvidenceShare = 0.05;
// The guest column "accounts" the vCPU time when it grew by at least this
// share of it (the kernel samples it per tick; bare-metal KVM gives ~1).
constexpr double kConsistentShare = 0.5;
// Unplaced vCPU time carried to the next scrape: at most this share of the
// interval. Sampling skew is a few ticks; more means the vCPU time was not
// spent here (a stale pinning) and is dropped rather than kept forever.
constexpr double kMaxCarryShare = 0.1;

double Sum(const ConsumerTicks& t) {
  return std::accumulate(t.begin(), t.end(), 0.0);
}

// Which source this interval's figures point to, if any.
std::optional<AccountingSource> Evidence(const ConsumerTicks& delta,
                                         double vcpu_run) {
  const double interval = Sum(delta);
  const double busy = delta[kHost] + delta[kGuest];
  if (interval <= 0) return std::nullopt;
  if (vcpu_run >= kMinEvidenceShare * interval) {
    return delta[kGuest] >= kConsistentShare * std::min(vcpu_run, busy)
               ? AccountingSource::kProcStat
               : AccountingSource::kVcpuThreads;
  }
  // Guest time with no pinned vCPU seen here (floating vCPUs): only the
  // column knows where it ran.
  if (delta[kGuest] >= kMinEvidenceShare * interval)
    return AccountingSource::kProcStat;
  return std::nullopt;
}

void Vote(CpuAccount& a, std::optional<AccountingSource> evidence) {
  if (!evidence) return;
  if (*evidence == a.source) {
    a.streak = 0;
    return;
  }
  if (++a.streak < kAccountingSwitchAfter) return;
  a.source = *evidence;
  a.streak = 0;
  a.carry = 0;
}

// kSched while the sched collector measures this CPU; back to kProcStat
// (and the vote) when it stops.
void SetSchedSource(CpuAccount& a, bool measured) {
  const bool in_sched = a.source == AccountingSource::kSched;
  if (measured == in_sched) return;
  a.source = measured ? AccountingSource::kSched : AccountingSource::kProcStat;
  a.streak = 0;
  a.carry = 0;
}

}  // namespace

std::string_view AccountingSourceName(AccountingSource source) {
  switch (source) {
    case AccountingSource::kProcStat:
      return "proc_stat";
    case AccountingSource::kVcpuThreads:
      return "vcpu_threads";
    case AccountingSource::kSched:
      return "sched";
  }
  return "proc_stat";
}

void AdvanceCpuAccount(CpuAccount& a, const ConsumerTicks& raw, double vcpu_run,
                       std::optional<double> sched_vcpu) {
  if (!std::isfinite(vcpu_run) || vcpu_run < 0) vcpu_run = 0;
  if (sched_vcpu && (!std::isfinite(*sched_vcpu) || *sched_vcpu < 0))
    sched_vcpu.reset();
  SetSchedSource(a, sched_vcpu.has_value());
  if (!a.seen) {
    a.seen = true;
    a.high_water = raw;
    a.published = raw;
    return;
  }
  if (Sum(raw) < Sum(a.high_water)) {  // reset or wrap: a new baseline
    a.high_water = raw;
    a.carry = 0;
    return;
  }
  ConsumerTicks delta{};
  for (std::size_t i = 0; i < raw.size(); ++i) {
    delta[i] = std::max(0.0, raw[i] - a.high_water[i]);
    a.high_water[i] = std::max(a.high_water[i], raw[i]);
  }
  if (!sched_vcpu) Vote(a, Evidence(delta, vcpu_run));

  const double busy = delta[kHost] + delta[kGuest];
  double guest = delta[kGuest];
  if (a.source != AccountingSource::kProcStat) {
    const double wanted = (sched_vcpu ? *sched_vcpu : vcpu_run) + a.carry;
    guest = std::min(wanted, busy);
    a.carry = std::min(wanted - guest, kMaxCarryShare * Sum(delta));
  }
  a.published[kGuest] += guest;
  a.published[kHost] += busy - guest;
  a.published[kSteal] += delta[kSteal];
  a.published[kIdle] += delta[kIdle];
}

std::vector<std::uint64_t> VcpuRunTracker::Advance(
    const std::vector<PinnedVcpuRun>& now) {
  std::vector<std::uint64_t> per_cpu;
  std::unordered_map<pid_t, Last> next;
  next.reserve(now.size());
  for (const PinnedVcpuRun& t : now) {
    if (t.cpu < 0 || t.cpu >= CpuSet::kMaxCpus || t.tid <= 0) continue;
    if (!next.try_emplace(t.tid, Last{t.cpu, t.run_ns}).second) continue;
    auto it = last_.find(t.tid);
    if (it == last_.end() || it->second.cpu != t.cpu ||
        t.run_ns < it->second.run_ns)
      continue;  // no baseline for this interval
    const auto cpu = static_cast<std::size_t>(t.cpu);
    if (per_cpu.size() <= cpu) per_cpu.resize(cpu + 1, 0);
    per_cpu[cpu] += t.run_ns - it->second.run_ns;
  }
  last_ = std::move(next);
  return per_cpu;
}

std::vector<std::optional<std::uint64_t>> VcpuHeldTracker::Advance(
    const std::vector<std::optional<std::uint64_t>>& now) {
  std::vector<std::optional<std::uint64_t>> since(now.size());
  for (std::size_t cpu = 0; cpu < now.size(); ++cpu) {
    if (!now[cpu] || cpu >= last_.size() || !last_[cpu]) continue;
    if (*now[cpu] >= *last_[cpu]) since[cpu] = *now[cpu] - *last_[cpu];
  }
  last_ = now;
  return since;
}

}  // namespace hostiso
