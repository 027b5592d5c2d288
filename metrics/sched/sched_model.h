#pragma once

#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/census/intrusion_ledger.h"
#include "metrics/cpu_set.h"
#include "metrics/guest_inventory.h"
#include "metrics/sched/sched_abi.h"

namespace hostiso {

// The pure half of the "sched" collector: which thread belongs to which
// domain (what the exporter writes into the BPF maps), and the conversion of
// what it reads back into the contract's counters. No BPF here, so it is
// unit-tested and fuzzed without privileges.

// The classification maps' content for one guest inventory.
struct SchedClassification {
  std::map<std::uint32_t, hostiso_vcpu_class> vcpus;  // tid -> domain, vcpu
  std::map<std::uint32_t, hostiso_proc_class> procs;  // QEMU pid -> domain
  // Domain index (the maps' key) -> libvirt name; "" for a free index.
  std::vector<std::string> names;
};

// Gives each running domain a stable index below `capacity` for as long as
// it runs. An index freed by a domain that stopped is reused by the next new
// domain (its threads exited, so its counters no longer grow; SchedCounters
// counts growth per name). Domains beyond the capacity get no index: their
// threads count as host, and Dropped() says how many.
class DomainIndex {
 public:
  explicit DomainIndex(std::uint32_t capacity) : capacity_(capacity) {}
  SchedClassification Assign(const GuestInventory& inventory);
  std::uint32_t Dropped() const { return dropped_; }

 private:
  std::uint32_t capacity_;
  std::map<std::string, std::uint32_t> index_;
  std::uint32_t dropped_ = 0;
};

// One read of the maps (summed over CPUs where the map is per-CPU).
struct SchedSnapshot {
  struct Cpu {
    int cpu = 0;
    std::array<std::uint64_t, HOSTISO_CLASS_COUNT> held_ns{};
    std::uint64_t intrusion_overflow_ns = 0;
  };
  // Host time of one name on one CPU since the previous read (the map is
  // drained at each read).
  struct Intrusion {
    int cpu = 0;
    std::string comm;
    std::uint64_t ns = 0;
  };
  std::vector<Cpu> cpus;
  std::vector<hostiso_domain_stats> domains;  // by domain index
  std::vector<Intrusion> intrusion;
  std::uint64_t events = 0;
  std::uint64_t dropped = 0;
  // Sum of the programs' run_time_ns; nullopt unless kernel.bpf_stats_enabled.
  std::optional<std::uint64_t> bpf_run_ns;
};

// The holder label of a class and of a relative class.
const char* HolderClassName(std::uint32_t cls);
const char* RelativeClassName(std::uint32_t rel);
// The `le` bound of bucket i in seconds (+Inf for the last).
double BucketUpperSeconds(std::uint32_t bucket);

// Turns successive snapshots into counters that only grow: each counter adds
// the growth of its source since the previous snapshot (a source that went
// backwards, e.g. the program reloaded, adds nothing that time), per domain
// name rather than per index.
class SchedCounters {
 public:
  explicit SchedCounters(std::size_t top_comms) : ledger_(top_comms) {}
  // `names` maps domain index -> name as of the snapshot ("" = free);
  // `guest_cpus` are the guest-role CPUs (intrusion is shown for them).
  void Update(const SchedSnapshot& snap, const std::vector<std::string>& names,
              const CpuSet& guest_cpus);
  void AppendTo(std::vector<prometheus::MetricFamily>& out) const;

 private:
  struct Domain {
    std::array<std::uint64_t, HOSTISO_BUCKETS> buckets{};
    std::uint64_t count = 0, sum_ns = 0;
    std::array<std::uint64_t, HOSTISO_REL_COUNT> attributed_ns{};
    std::array<std::uint64_t, HOSTISO_REL_COUNT> preemptions{};
  };
  void UpdateDomains(const SchedSnapshot& snap,
                     const std::vector<std::string>& names);
  void UpdateIntrusion(const SchedSnapshot& snap, const CpuSet& guest_cpus);
  void AppendDomains(std::vector<prometheus::MetricFamily>& out) const;

  SchedSnapshot previous_;
  std::map<int, std::array<std::uint64_t, HOSTISO_CLASS_COUNT>> held_;
  std::map<std::string, Domain> domains_;
  detail::IntrusionLedger ledger_;
  std::uint64_t events_ = 0, dropped_ = 0;
  std::optional<std::uint64_t> bpf_run_ns_;
  std::uint64_t bpf_run_previous_ = 0;
};

}  // namespace hostiso
