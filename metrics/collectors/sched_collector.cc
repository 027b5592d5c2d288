#include "metrics/collectors/sched_collector.h"

#include <utility>

#include "metrics/log.h"

namespace hostiso {

struct SchedCollector::State {
  State(std::shared_ptr<const GuestInventoryHolder> g, GuestCpus cpus,
        std::size_t top_comms, Loader l)
      : guests(std::move(g)),
        guest_cpus_now(std::move(cpus)),
        loader(std::move(l)),
        counters(top_comms) {}

  // Loads once; later calls return the first outcome.
  void Load() EXCLUDES(mu) {
    MutexLock lock(mu);
    if (loaded) return;
    loaded = true;
    auto bpf_or = loader();
    if (!bpf_or) {
      load_error = bpf_or.error();
      return;
    }
    bpf = std::move(*bpf_or);
    index.emplace(bpf->DomainCapacity());
  }

  // The worker's step: the inventory into the classification maps, when the
  // libvirt worker published a new one.
  void SyncClassification() EXCLUDES(mu) {
    const auto inventory = guests->Current();
    MutexLock lock(mu);
    if (!bpf || inventory == synced) return;
    SchedClassification c = index->Assign(*inventory);
    if (auto r = bpf->SetClassification(c); !r) {
      log::Warn("sched: cannot update the classification maps",
                {{"err", r.error()}});
      return;
    }
    if (index->Dropped() > 0 && index->Dropped() != warned_dropped) {
      log::Warn(
          "sched: more running domains than the BPF maps hold; the "
          "extra ones count as host",
          {{"dropped", std::to_string(index->Dropped())}});
    }
    warned_dropped = index->Dropped();
    names = std::move(c.names);
    synced = inventory;
  }

  // The guest-role CPUs into the kernel's map when they changed.
  Expected<void> SyncGuestCpus(const CpuSet& cpus) REQUIRES(mu) {
    if (guest_cpus && *guest_cpus == cpus) return Ok();
    if (auto r = bpf->SetGuestCpus(cpus); !r) return r.failure();
    guest_cpus = cpus;
    return Ok();
  }

  void SyncGuestCpus() EXCLUDES(mu) {
    const CpuSet cpus = guest_cpus_now();
    MutexLock lock(mu);
    if (!bpf) return;
    if (auto r = SyncGuestCpus(cpus); !r)
      log::Warn("sched: cannot update the guest CPU map", {{"err", r.error()}});
  }

  std::shared_ptr<const GuestInventoryHolder> guests;
  GuestCpus guest_cpus_now;
  Loader loader;
  Mutex mu;
  bool loaded GUARDED_BY(mu) = false;
  std::string load_error GUARDED_BY(mu);
  std::unique_ptr<SchedBpf> bpf GUARDED_BY(mu);
  std::optional<DomainIndex> index GUARDED_BY(mu);
  std::shared_ptr<const GuestInventory> synced GUARDED_BY(mu);
  std::vector<std::string> names GUARDED_BY(mu);
  std::uint32_t warned_dropped GUARDED_BY(mu) = 0;
  std::optional<CpuSet> guest_cpus GUARDED_BY(mu);
  SchedCounters counters GUARDED_BY(mu);
  bool lent_vcpu_counters GUARDED_BY(mu) = false;
};

// The scrape's GuestSampler reads the vCPU threads' schedstat counters from
// the programs' task iterator through this (one pass instead of a file per
// thread). Weak: the sampler outlives no collector, but need not know.
class SchedCollector::IterCounterSource : public VcpuCounterSource {
 public:
  explicit IterCounterSource(std::weak_ptr<State> state)
      : state_(std::move(state)) {}
  Expected<std::vector<VcpuCounters>> ReadVcpuCounters() override {
    const std::shared_ptr<State> s = state_.lock();
    if (!s) return Error("the sched collector is gone");
    MutexLock lock(s->mu);
    if (!s->bpf) return Error(s->load_error);
    return s->bpf->ReadVcpuCounters();
  }

 private:
  std::weak_ptr<State> state_;
};

SchedCollector::SchedCollector(
    std::shared_ptr<const GuestInventoryHolder> guests, GuestCpus guest_cpus,
    std::size_t top_comms, Loader loader)
    : state_(std::make_shared<State>(std::move(guests), std::move(guest_cpus),
                                     top_comms, std::move(loader))),
      vcpu_counters_(std::make_shared<IterCounterSource>(state_)) {}

SchedCollector::~SchedCollector() { Stop(std::chrono::seconds(2)); }

void SchedCollector::Start() {
  state_->Load();
  std::shared_ptr<State> state = state_;
  worker_ = std::make_unique<PeriodicWorker>("sched", [state] {
    state->SyncClassification();
    state->SyncGuestCpus();
    // A new inventory is in the maps within a second of its publication, so
    // a new guest's vCPUs are not counted as host for long.
    return std::chrono::seconds(1);
  });
  worker_->Start();
}

bool SchedCollector::Stop(std::chrono::milliseconds grace) {
  if (!worker_) return true;
  const bool stopped = worker_->Stop(grace);
  worker_.reset();
  return stopped;
}

VcpuHeldReader SchedCollector::VcpuTimeReader() const {
  std::shared_ptr<State> state = state_;
  return [state]() -> Expected<std::vector<std::optional<std::uint64_t>>> {
    MutexLock lock(state->mu);
    if (!state->bpf)
      return Error(state->loaded ? state->load_error : "sched not loaded");
    auto cpus = state->bpf->ReadCpus();
    if (!cpus) return cpus.failure();
    std::vector<std::optional<std::uint64_t>> held;
    for (const SchedSnapshot::Cpu& c : *cpus) {
      const auto cpu = static_cast<std::size_t>(c.cpu);
      if (held.size() <= cpu) held.resize(cpu + 1);
      held[cpu] = c.held_ns[HOSTISO_CLASS_VCPU];
    }
    return held;
  };
}

Expected<void> SchedCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  State& s = *state_;
  s.Load();  // no-op after Start(); tests may skip Start()
  MutexLock lock(s.mu);
  if (!s.bpf) return Error(s.load_error);
  // From now on (the next scrape: libvirt and cpu sample before this
  // collector runs) the vCPU counters come from the iterator.
  if (s.bpf->HasVcpuCounters()) {
    ctx.guests.SetVcpuCounterSource(vcpu_counters_);
    if (!s.lent_vcpu_counters)
      log::Info(
          "sched: vCPU run time and delay now come from the task iterator "
          "(one pass per scrape instead of a schedstat file per vCPU)");
    s.lent_vcpu_counters = true;
  }
  const CpuSet& guest_cpus = ctx.isolation.roles.GuestCpus();
  if (auto r = s.SyncGuestCpus(guest_cpus); !r) return r.failure();
  auto snap = s.bpf->Read(s.names);
  if (!snap) return snap.failure();
  s.counters.Update(*snap, s.names, guest_cpus);
  s.counters.AppendTo(out);
  return Ok();
}

}  // namespace hostiso
