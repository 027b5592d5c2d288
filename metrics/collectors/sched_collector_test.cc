#include "metrics/collectors/sched_collector.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace hostiso {
namespace {

// Records what the collector writes into the maps; serves a fixed snapshot.
class FakeBpf : public SchedBpf {
 public:
  // Written by the collector's worker, read by the test: under `mu`.
  struct Seen {
    std::mutex mu;
    SchedClassification classification;
    CpuSet guest_cpus;
    int reads = 0;
    bool Filled() {
      std::lock_guard<std::mutex> lock(mu);
      return !classification.vcpus.empty() && !guest_cpus.Empty();
    }
  };
  explicit FakeBpf(std::shared_ptr<Seen> seen) : seen_(std::move(seen)) {}
  Expected<void> SetClassification(const SchedClassification& c) override {
    std::lock_guard<std::mutex> lock(seen_->mu);
    seen_->classification = c;
    return Ok();
  }
  Expected<void> SetGuestCpus(const CpuSet& cpus) override {
    std::lock_guard<std::mutex> lock(seen_->mu);
    seen_->guest_cpus = cpus;
    return Ok();
  }
  Expected<SchedSnapshot> Read(
      const std::vector<std::string>& /*names*/) override {
    std::lock_guard<std::mutex> lock(seen_->mu);
    ++seen_->reads;
    SchedSnapshot s;
    s.cpus.push_back({});
    s.domains.resize(DomainCapacity());
    return s;
  }
  Expected<std::vector<SchedSnapshot::Cpu>> ReadCpus() override {
    SchedSnapshot::Cpu c;
    c.cpu = 2;
    c.held_ns[HOSTISO_CLASS_VCPU] = 7000;
    return std::vector<SchedSnapshot::Cpu>{c};
  }
  std::uint32_t DomainCapacity() const override { return 4; }

 private:
  std::shared_ptr<Seen> seen_;
};

TEST(SchedCollector, ReportsWhyItCouldNotLoadOnEveryScrape) {
  int loads = 0;
  SchedCollector c(
      std::make_shared<GuestInventoryHolder>(), [] { return CpuSet(); }, 10,
      [&loads]() -> Expected<std::unique_ptr<SchedBpf>> {
        ++loads;
        return Error("no privilege (needs CAP_BPF)");
      });
  IsolationSnapshot snap;
  ViolationRegistry reg;
  GuestSampler sampler("/nonexistent");
  ScrapeContext ctx{snap, reg, sampler};
  std::vector<prometheus::MetricFamily> out;
  for (int i = 0; i < 2; ++i) {
    auto r = c.Collect(ctx, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "no privilege (needs CAP_BPF)");
  }
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(loads, 1);  // tried once, not at every scrape
  // The cpu collector's reader fails the same way (it falls back).
  auto held = c.VcpuTimeReader()();
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error(), "no privilege (needs CAP_BPF)");
}

TEST(SchedCollector, FillsMapsFromInventoryAndRolesAndServesCounters) {
  auto seen = std::make_shared<FakeBpf::Seen>();
  auto guests = std::make_shared<GuestInventoryHolder>();
  auto inv = std::make_shared<GuestInventory>();
  GuestDomain d;
  d.name = "instance-1";
  d.qemu_pid = 10;
  d.vcpus.push_back({0, 11, CpuSet(), -1});
  inv->domains.push_back(d);
  guests->Publish(inv);
  SchedCollector c(
      guests, [] { return CpuSet::FromList({1}); }, 10,
      [seen]() -> Expected<std::unique_ptr<SchedBpf>> {
        return std::unique_ptr<SchedBpf>(std::make_unique<FakeBpf>(seen));
      });
  c.Start();
  IsolationSnapshot snap;
  GuestCpuSets sets;
  sets.source = GuestSetSource::kFlag;
  sets.legacy = CpuSet::FromList({1});
  snap.roles = CpuRoles(sets, CpuSet::FromList({0, 1}));
  ViolationRegistry reg;
  GuestSampler sampler("/nonexistent");
  ScrapeContext ctx{snap, reg, sampler};
  // The worker copies the inventory and the guest CPUs within its first step,
  // before any scrape.
  for (int i = 0; i < 250 && !seen->Filled(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(seen->Filled());
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(c.Collect(ctx, out));
  EXPECT_TRUE(c.Stop(std::chrono::seconds(2)));
  EXPECT_EQ(seen->classification.vcpus.at(11).domain, 0u);
  EXPECT_EQ(seen->classification.procs.at(10).domain, 0u);
  EXPECT_TRUE(seen->guest_cpus == CpuSet::FromList({1}));
  EXPECT_EQ(seen->reads, 1);
  bool has_histogram = false;
  for (const auto& f : out) {
    if (f.name == "hostiso_domain_runqueue_latency_seconds") {
      has_histogram = true;
      ASSERT_EQ(f.metric.size(), 1u);
      EXPECT_EQ(f.metric[0].label[0].value, "instance-1");
    }
  }
  EXPECT_TRUE(has_histogram);
  // The vCPU time per CPU the cpu collector reads: CPU 2 only.
  auto held = c.VcpuTimeReader()();
  ASSERT_TRUE(held);
  ASSERT_EQ(held->size(), 3u);
  EXPECT_FALSE((*held)[0]);
  EXPECT_EQ((*held)[2], std::optional<std::uint64_t>(7000));
}

}  // namespace
}  // namespace hostiso
