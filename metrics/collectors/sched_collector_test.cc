#include "metrics/collectors/sched_collector.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "metrics/testing/temp_tree.h"

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

// A loaded collector whose kernel accepted the task iterator (or not).
class FakeIterBpf : public FakeBpf {
 public:
  FakeIterBpf(std::shared_ptr<Seen> seen, bool has_iter)
      : FakeBpf(std::move(seen)), has_iter_(has_iter) {}
  bool HasVcpuCounters() const override { return has_iter_; }
  Expected<std::vector<VcpuCounters>> ReadVcpuCounters() override {
    return std::vector<VcpuCounters>{{11, 10, 1, 1234, 567, 8}};
  }

 private:
  bool has_iter_;
};

// How many vCPUs the scrape after the collector's first one took from it.
std::size_t ServedFromIterator(bool has_iter, bool destroy_collector) {
  testing::TempTree tree;
  tree.Write("10/statm", "1000 250 10 1 0 100 0\n");
  auto inv = std::make_shared<GuestInventory>();
  GuestDomain& d = inv->domains.emplace_back();
  d.name = "instance-1";
  d.qemu_pid = 10;
  d.vcpus.push_back({0, 11, CpuSet::FromList({1}), -1});
  auto guests = std::make_shared<GuestInventoryHolder>();
  guests->Publish(inv);
  auto seen = std::make_shared<FakeBpf::Seen>();
  auto c = std::make_unique<SchedCollector>(
      guests, [] { return CpuSet(); }, 10,
      [seen, has_iter]() -> Expected<std::unique_ptr<SchedBpf>> {
        return std::unique_ptr<SchedBpf>(
            std::make_unique<FakeIterBpf>(seen, has_iter));
      });
  IsolationSnapshot snap;
  ViolationRegistry reg;
  GuestSampler sampler(tree.Root());
  ScrapeContext ctx{snap, reg, sampler};
  std::vector<prometheus::MetricFamily> out;
  EXPECT_TRUE(c->Collect(ctx, out));
  if (destroy_collector) c.reset();
  sampler.Reset();  // the next scrape
  const GuestSample& s = sampler.Sample(inv);
  if (s.vcpus_from_source == 1) {
    EXPECT_EQ(s.domains[0].vcpus[0].run_ns, 1234u);
    EXPECT_EQ(s.domains[0].vcpus[0].delay_ns, 567u);
  } else {
    // No file in the tree: unknown, not a value from anywhere else.
    EXPECT_FALSE(s.domains[0].vcpus[0].run_ns.has_value());
  }
  return s.vcpus_from_source;
}

TEST(SchedCollector, LendsItsTaskIteratorToTheGuestSampler) {
  EXPECT_EQ(ServedFromIterator(/*has_iter=*/true, false), 1u);
}

TEST(SchedCollector, WithoutTheIteratorTheSamplerReadsFiles) {
  EXPECT_EQ(ServedFromIterator(/*has_iter=*/false, false), 0u);
}

TEST(SchedCollector, SamplerOutlivesTheCollectorSafely) {
  EXPECT_EQ(ServedFromIterator(/*has_iter=*/true, true), 0u);
}

}  // namespace
}  // namespace hostiso
