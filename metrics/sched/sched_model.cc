#include "metrics/sched/sched_model.h"

#include <cmath>
#include <limits>
#include <set>

#include "metrics/family_builder.h"

namespace hostiso {
namespace {

constexpr double kNanosPerSecond = 1e9;

std::uint64_t Growth(std::uint64_t now, std::uint64_t then) {
  return now > then ? now - then : 0;
}

double Seconds(std::uint64_t ns) {
  return static_cast<double>(ns) / kNanosPerSecond;
}

}  // namespace

const char* HolderClassName(std::uint32_t cls) {
  switch (cls) {
    case HOSTISO_CLASS_HOST:
      return "host";
    case HOSTISO_CLASS_KERNEL:
      return "kernel";
    case HOSTISO_CLASS_IDLE:
      return "idle";
    case HOSTISO_CLASS_VCPU:
      return "vcpu";
    case HOSTISO_CLASS_EMULATOR:
      return "emulator";
    default:
      return "unknown";
  }
}

const char* RelativeClassName(std::uint32_t rel) {
  switch (rel) {
    case HOSTISO_REL_HOST:
      return "host";
    case HOSTISO_REL_OTHER_GUEST:
      return "other_guest";
    case HOSTISO_REL_OWN_EMULATOR:
      return "own_emulator";
    case HOSTISO_REL_OWN_VCPU:
      return "own_vcpu";
    case HOSTISO_REL_KERNEL:
      return "kernel";
    default:
      return "unknown";
  }
}

double BucketUpperSeconds(std::uint32_t bucket) {
  if (bucket + 1 >= HOSTISO_BUCKETS)
    return std::numeric_limits<double>::infinity();
  return std::ldexp(1.0, HOSTISO_BUCKET_BASE_SHIFT + static_cast<int>(bucket)) /
         kNanosPerSecond;
}

SchedClassification DomainIndex::Assign(const GuestInventory& inventory) {
  std::set<std::string> running;
  for (const GuestDomain& d : inventory.domains) running.insert(d.name);
  // Forget stopped domains first, so their indexes are free for new ones.
  for (auto it = index_.begin(); it != index_.end();) {
    it = running.count(it->first) ? std::next(it) : index_.erase(it);
  }
  std::vector<bool> used(capacity_, false);
  for (const auto& [name, i] : index_) used[i] = true;
  SchedClassification out;
  out.names.assign(capacity_, "");
  dropped_ = 0;
  std::uint32_t next_free = 0;
  for (const GuestDomain& d : inventory.domains) {
    auto it = index_.find(d.name);
    if (it == index_.end()) {
      while (next_free < capacity_ && used[next_free]) ++next_free;
      if (next_free >= capacity_) {
        ++dropped_;
        continue;
      }
      used[next_free] = true;
      it = index_.emplace(d.name, next_free).first;
    }
    const std::uint32_t i = it->second;
    out.names[i] = d.name;
    if (d.qemu_pid > 0)
      out.procs[static_cast<std::uint32_t>(d.qemu_pid)] = {i, 0};
    for (const GuestVcpu& v : d.vcpus) {
      if (v.tid <= 0 || v.index < 0) continue;
      out.vcpus[static_cast<std::uint32_t>(v.tid)] = {
          i, static_cast<std::uint32_t>(v.index)};
    }
  }
  return out;
}

void SchedCounters::Update(const SchedSnapshot& snap,
                           const std::vector<std::string>& names,
                           const CpuSet& guest_cpus) {
  std::map<int, const SchedSnapshot::Cpu*> before;
  for (const auto& c : previous_.cpus) before[c.cpu] = &c;
  for (const auto& c : snap.cpus) {
    auto& held = held_[c.cpu];
    const auto it = before.find(c.cpu);
    for (std::size_t k = 0; k < held.size(); ++k) {
      const std::uint64_t then =
          it == before.end() ? 0 : it->second->held_ns[k];
      held[k] += Growth(c.held_ns[k], then);
    }
  }
  UpdateDomains(snap, names);
  UpdateIntrusion(snap, guest_cpus);
  events_ += Growth(snap.events, previous_.events);
  dropped_ += Growth(snap.dropped, previous_.dropped);
  if (snap.bpf_run_ns) {
    bpf_run_ns_ =
        bpf_run_ns_.value_or(0) + Growth(*snap.bpf_run_ns, bpf_run_previous_);
    bpf_run_previous_ = *snap.bpf_run_ns;
  } else {
    bpf_run_ns_.reset();
  }
  previous_ = snap;
}

void SchedCounters::UpdateDomains(const SchedSnapshot& snap,
                                  const std::vector<std::string>& names) {
  std::map<std::string, Domain> kept;
  const hostiso_domain_stats zero{};
  for (std::size_t i = 0; i < snap.domains.size() && i < names.size(); ++i) {
    if (names[i].empty()) continue;
    const hostiso_domain_stats& now = snap.domains[i];
    const hostiso_domain_stats& then =
        i < previous_.domains.size() ? previous_.domains[i] : zero;
    Domain& d = kept[names[i]];
    if (auto it = domains_.find(names[i]); it != domains_.end()) d = it->second;
    for (std::size_t b = 0; b < d.buckets.size(); ++b)
      d.buckets[b] += Growth(now.buckets[b], then.buckets[b]);
    d.count += Growth(now.wait_count, then.wait_count);
    d.sum_ns += Growth(now.wait_sum_ns, then.wait_sum_ns);
    for (std::size_t r = 0; r < d.attributed_ns.size(); ++r) {
      d.attributed_ns[r] += Growth(now.attributed_ns[r], then.attributed_ns[r]);
      d.preemptions[r] += Growth(now.preemptions[r], then.preemptions[r]);
    }
  }
  domains_ = std::move(kept);  // stopped domains' series go away
}

void SchedCounters::UpdateIntrusion(const SchedSnapshot& snap,
                                    const CpuSet& guest_cpus) {
  std::vector<detail::IntrusionLedger::Delta> deltas;
  // The (cpu, comm) map is drained at each read: its values are already
  // the time since the previous read.
  for (const auto& e : snap.intrusion) {
    if (!guest_cpus.Contains(e.cpu) || e.ns == 0) continue;
    deltas.push_back({e.comm, e.cpu, e.ns, false});
  }
  std::map<int, const SchedSnapshot::Cpu*> before;
  for (const auto& c : previous_.cpus) before[c.cpu] = &c;
  for (const auto& c : snap.cpus) {
    if (!guest_cpus.Contains(c.cpu)) continue;
    const auto it = before.find(c.cpu);
    const SchedSnapshot::Cpu zero{};
    const SchedSnapshot::Cpu& then = it == before.end() ? zero : *it->second;
    const std::uint64_t kernel = Growth(c.held_ns[HOSTISO_CLASS_KERNEL],
                                        then.held_ns[HOSTISO_CLASS_KERNEL]);
    if (kernel > 0) deltas.push_back({"", c.cpu, kernel, true});
    // Names that found the map full: "other" is reserved by the ledger.
    const std::uint64_t overflow =
        Growth(c.intrusion_overflow_ns, then.intrusion_overflow_ns);
    if (overflow > 0)
      deltas.push_back({std::string(detail::IntrusionLedger::kOther), c.cpu,
                        overflow, false});
  }
  ledger_.Add(deltas, guest_cpus);
}

void SchedCounters::AppendDomains(
    std::vector<prometheus::MetricFamily>& out) const {
  prometheus::MetricFamily hist;
  hist.name = "hostiso_domain_runqueue_latency_seconds";
  hist.help =
      "Waits of the domain's vCPU threads from runnable to running (sched "
      "BPF).";
  hist.type = prometheus::MetricType::Histogram;
  auto wait = FamilyBuilder::Counter(
      "hostiso_domain_wait_attributed_seconds_total",
      "vCPU wait time of the domain by what held the CPU meanwhile.");
  auto preempt = FamilyBuilder::Counter(
      "hostiso_domain_preemptions_total",
      "Involuntary switches of the domain's vCPUs by the class that took the "
      "CPU.");
  for (const auto& [name, d] : domains_) {
    prometheus::ClientMetric& m = hist.metric.emplace_back();
    m.label.push_back({"domain", name});
    m.histogram.sample_count = d.count;
    m.histogram.sample_sum = Seconds(d.sum_ns);
    std::uint64_t cumulative = 0;
    for (std::uint32_t b = 0; b + 1 < HOSTISO_BUCKETS; ++b) {
      cumulative += d.buckets[b];
      m.histogram.bucket.push_back({cumulative, BucketUpperSeconds(b)});
    }
    for (std::uint32_t r = 0; r < HOSTISO_REL_COUNT; ++r) {
      wait.Add({{"domain", name}, {"holder", RelativeClassName(r)}},
               Seconds(d.attributed_ns[r]));
      preempt.Add({{"domain", name}, {"by", RelativeClassName(r)}},
                  static_cast<double>(d.preemptions[r]));
    }
  }
  out.push_back(std::move(hist));
  std::move(wait).AppendTo(out);
  std::move(preempt).AppendTo(out);
}

void SchedCounters::AppendTo(std::vector<prometheus::MetricFamily>& out) const {
  auto held = FamilyBuilder::Counter(
      "hostiso_cpu_held_seconds_total",
      "Exact time the CPU ran each holder class (sched BPF).");
  for (const auto& [cpu, ns] : held_) {
    const std::string cpu_label = std::to_string(cpu);
    for (std::uint32_t k = 0; k < HOSTISO_CLASS_COUNT; ++k)
      held.Add({{"cpu", cpu_label}, {"holder", HolderClassName(k)}},
               Seconds(ns[k]));
  }
  std::move(held).AppendTo(out);
  AppendDomains(out);
  auto intrusion = FamilyBuilder::Counter(
      "hostiso_sched_intrusion_seconds_total",
      "Exact host time on guest-role CPUs by process name (top N, 'other', "
      "'kernel'), short-lived threads included (sched BPF).");
  for (const auto& s : ledger_.Exposition())
    intrusion.Add({{"cpu", std::to_string(s.cpu)}, {"comm", s.comm}},
                  Seconds(s.ticks));
  std::move(intrusion).AppendTo(out);
  if (bpf_run_ns_) {
    auto run = FamilyBuilder::Counter(
        "hostiso_sched_bpf_run_seconds_total",
        "Time the sched BPF programs ran (kernel run_time_ns; only while "
        "kernel.bpf_stats_enabled is on).");
    run.Add({}, Seconds(*bpf_run_ns_));
    std::move(run).AppendTo(out);
  }
  auto events = FamilyBuilder::Counter(
      "hostiso_sched_events_total", "Scheduler events the BPF programs saw.");
  events.Add({}, static_cast<double>(events_));
  std::move(events).AppendTo(out);
  auto dropped = FamilyBuilder::Counter("hostiso_sched_dropped_total",
                                        "Entries refused by a full BPF map.");
  dropped.Add({}, static_cast<double>(dropped_));
  std::move(dropped).AppendTo(out);
}

}  // namespace hostiso
