#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"
#include "metrics/guest_sample.h"
#include "metrics/sched/sched_model.h"

namespace hostiso {

// The loaded and attached BPF programs of the "sched" collector
// (metrics/sched/sched.bpf.c, skeleton generated at build time). Loading
// needs CAP_BPF + CAP_PERFMON (or root) and the kernel's BTF
// (/sys/kernel/btf/vmlinux). Map updates and reads are system calls on the
// maps; they are safe from any thread.
class SchedBpf {
 public:
  virtual ~SchedBpf() = default;
  // Replaces the classification maps' content with `c` (entries no longer
  // in `c` are deleted).
  virtual Expected<void> SetClassification(const SchedClassification& c) = 0;
  virtual Expected<void> SetGuestCpus(const CpuSet& cpus) = 0;
  // Reads the maps; per-domain statistics only up to the highest index
  // `names` ever held a domain for (each read copies one value per possible
  // CPU, so the whole cap would cost 512 of them per scrape).
  virtual Expected<SchedSnapshot> Read(
      const std::vector<std::string>& names) = 0;
  // The per-CPU part of Read() alone (the cpu collector's exact host/guest
  // split, hostiso_cpu_accounting_source="sched"): one map read per CPU.
  virtual Expected<std::vector<SchedSnapshot::Cpu>> ReadCpus() = 0;
  // How many domains the maps hold.
  virtual std::uint32_t DomainCapacity() const = 0;
  // The schedstat counters of every thread in the vCPU map, read in one pass
  // by the task iterator (hostiso_vcpu_iter); an Error when the kernel could
  // not load or attach it (the rest of the programs still run).
  virtual Expected<std::vector<VcpuCounters>> ReadVcpuCounters() {
    return Error("the sched collector has no vCPU counter iterator");
  }
  // Whether ReadVcpuCounters() can work (the iterator is attached).
  virtual bool HasVcpuCounters() const { return false; }
};

// Opens, sizes (from the possible CPUs) and attaches the programs; an Error
// naming the reason (built without BPF, no BTF, no privilege) otherwise.
Expected<std::unique_ptr<SchedBpf>> LoadSchedBpf();

}  // namespace hostiso
