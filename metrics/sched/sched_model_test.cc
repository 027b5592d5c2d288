#include "metrics/sched/sched_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace hostiso {
namespace {

const prometheus::MetricFamily* Find(
    const std::vector<prometheus::MetricFamily>& fams, const std::string& n) {
  for (const auto& f : fams)
    if (f.name == n) return &f;
  return nullptr;
}

// The value of the sample of family `n` whose labels include all of `want`.
std::optional<double> Value(const std::vector<prometheus::MetricFamily>& fams,
                            const std::string& n,
                            const std::map<std::string, std::string>& want) {
  const auto* f = Find(fams, n);
  if (f == nullptr) return std::nullopt;
  for (const auto& m : f->metric) {
    std::size_t matched = 0;
    for (const auto& l : m.label) {
      auto it = want.find(l.name);
      if (it != want.end() && it->second == l.value) ++matched;
    }
    if (matched == want.size()) return m.counter.value;
  }
  return std::nullopt;
}

TEST(SchedBuckets, BoundsAreInclusivePowersOfTwo) {
  EXPECT_EQ(hostiso_bucket_of(0), 0u);
  EXPECT_EQ(hostiso_bucket_of(8192), 0u);
  EXPECT_EQ(hostiso_bucket_of(8193), 1u);
  EXPECT_EQ(hostiso_bucket_of(16384), 1u);
  EXPECT_EQ(hostiso_bucket_of(16385), 2u);
  EXPECT_EQ(hostiso_bucket_of(1ULL << 30), 17u);  // 1.07 s: last finite bound
  EXPECT_EQ(hostiso_bucket_of((1ULL << 30) + 1), 18u);
  EXPECT_EQ(hostiso_bucket_of(std::numeric_limits<std::uint64_t>::max()), 18u);
  for (std::uint32_t b = 0; b + 1 < HOSTISO_BUCKETS; ++b) {
    // Every finite bound, in ns, lands in its own bucket; one more in the next.
    const auto ns =
        static_cast<std::uint64_t>(std::llround(BucketUpperSeconds(b) * 1e9));
    EXPECT_EQ(hostiso_bucket_of(ns), b);
    EXPECT_EQ(hostiso_bucket_of(ns + 1), b + 1);
  }
  EXPECT_DOUBLE_EQ(BucketUpperSeconds(0), 8.192e-6);
  EXPECT_TRUE(std::isinf(BucketUpperSeconds(HOSTISO_BUCKETS - 1)));
}

GuestDomain Domain(const std::string& name, pid_t pid,
                   std::vector<pid_t> tids) {
  GuestDomain d;
  d.name = name;
  d.qemu_pid = pid;
  for (std::size_t i = 0; i < tids.size(); ++i) {
    GuestVcpu v;
    v.index = static_cast<int>(i);
    v.tid = tids[i];
    d.vcpus.push_back(v);
  }
  return d;
}

TEST(DomainIndex, ClassifiesVcpusAndQemuAndReusesFreedIndexes) {
  DomainIndex index(2);
  GuestInventory inv;
  inv.domains = {Domain("a", 100, {101, 102}), Domain("b", 200, {0, 201})};
  SchedClassification c = index.Assign(inv);
  ASSERT_EQ(c.names.size(), 2u);
  EXPECT_EQ(c.names[0], "a");
  EXPECT_EQ(c.names[1], "b");
  EXPECT_EQ(c.vcpus.at(102).domain, 0u);
  EXPECT_EQ(c.vcpus.at(102).vcpu, 1u);
  EXPECT_EQ(c.vcpus.count(0), 0u);  // unknown thread id: not classified
  EXPECT_EQ(c.vcpus.at(201).domain, 1u);
  EXPECT_EQ(c.vcpus.at(201).vcpu, 1u);
  EXPECT_EQ(c.procs.at(200).domain, 1u);

  // "a" stopped, "c" and "d" started: "c" takes a's index, "d" finds none.
  inv.domains = {Domain("b", 200, {201}), Domain("c", 300, {301}),
                 Domain("d", 400, {401})};
  c = index.Assign(inv);
  EXPECT_EQ(c.names[0], "c");
  EXPECT_EQ(c.names[1], "b");
  EXPECT_EQ(index.Dropped(), 1u);
  EXPECT_EQ(c.procs.count(400), 0u);
  EXPECT_EQ(c.vcpus.count(401), 0u);
}

SchedSnapshot Snap(std::uint64_t vcpu_ns, std::uint64_t wait_host_ns,
                   std::uint64_t burn_ns) {
  SchedSnapshot s;
  SchedSnapshot::Cpu cpu;
  cpu.cpu = 1;
  cpu.held_ns[HOSTISO_CLASS_VCPU] = vcpu_ns;
  cpu.held_ns[HOSTISO_CLASS_KERNEL] = 1000;
  s.cpus.push_back(cpu);
  s.domains.resize(2);
  s.domains[0].attributed_ns[HOSTISO_REL_HOST] = wait_host_ns;
  s.domains[0].buckets[0] = 1;
  s.domains[0].buckets[3] = 2;
  s.domains[0].wait_count = 3;
  s.domains[0].wait_sum_ns = 50000;
  s.intrusion.push_back({1, "burn", burn_ns});
  s.intrusion.push_back({0, "host-cpu-only", burn_ns});  // CPU 0: host role
  s.events = 10;
  return s;
}

TEST(SchedCounters, ExposesGrowthAndNeverGoesBackwards) {
  SchedCounters counters(10);
  const std::vector<std::string> names = {"dom-a", ""};
  const CpuSet guest = CpuSet::FromList({1});
  counters.Update(Snap(2'000'000'000, 500'000'000, 7'000'000), names, guest);
  // The program was reloaded: every source restarted below its last value.
  counters.Update(Snap(1'000'000'000, 100'000'000, 1'000'000), names, guest);
  counters.Update(Snap(1'500'000'000, 300'000'000, 4'000'000), names, guest);
  std::vector<prometheus::MetricFamily> out;
  counters.AppendTo(out);
  EXPECT_DOUBLE_EQ(*Value(out, "hostiso_cpu_held_seconds_total",
                          {{"cpu", "1"}, {"holder", "vcpu"}}),
                   2.5);
  EXPECT_DOUBLE_EQ(*Value(out, "hostiso_domain_wait_attributed_seconds_total",
                          {{"domain", "dom-a"}, {"holder", "host"}}),
                   0.7);
  // The (cpu, comm) map is drained at each read: 7 + 1 + 4 ms.
  EXPECT_DOUBLE_EQ(*Value(out, "hostiso_sched_intrusion_seconds_total",
                          {{"cpu", "1"}, {"comm", "burn"}}),
                   0.012);
  EXPECT_FALSE(Value(out, "hostiso_sched_intrusion_seconds_total",
                     {{"cpu", "0"}}));  // not a guest-role CPU
  EXPECT_DOUBLE_EQ(*Value(out, "hostiso_sched_intrusion_seconds_total",
                          {{"cpu", "1"}, {"comm", "kernel"}}),
                   1e-6);
  EXPECT_FALSE(Find(out, "hostiso_sched_bpf_run_seconds_total"));
  EXPECT_DOUBLE_EQ(*Value(out, "hostiso_sched_events_total", {}), 10);
  // Free index 1 has no series.
  EXPECT_EQ(Find(out, "hostiso_domain_preemptions_total")->metric.size(),
            std::size_t{HOSTISO_REL_COUNT});
}

TEST(SchedCounters, HistogramBucketsAreCumulative) {
  SchedCounters counters(10);
  counters.Update(Snap(0, 0, 0), {"dom-a", ""}, CpuSet::FromList({1}));
  std::vector<prometheus::MetricFamily> out;
  counters.AppendTo(out);
  const auto* h = Find(out, "hostiso_domain_runqueue_latency_seconds");
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->type, prometheus::MetricType::Histogram);
  ASSERT_EQ(h->metric.size(), 1u);
  const auto& hist = h->metric[0].histogram;
  EXPECT_EQ(hist.sample_count, 3u);
  EXPECT_DOUBLE_EQ(hist.sample_sum, 50e-6);
  ASSERT_EQ(hist.bucket.size(), std::size_t{HOSTISO_BUCKETS - 1});
  EXPECT_EQ(hist.bucket[0].cumulative_count, 1u);
  EXPECT_EQ(hist.bucket[2].cumulative_count, 1u);
  EXPECT_EQ(hist.bucket[3].cumulative_count, 3u);
  EXPECT_EQ(hist.bucket.back().cumulative_count, 3u);
}

TEST(SchedCounters, ReusedIndexCreditsOnlyNewGrowthToTheNewDomain) {
  SchedCounters counters(10);
  const CpuSet guest = CpuSet::FromList({1});
  counters.Update(Snap(0, 400, 0), {"old", ""}, guest);
  counters.Update(Snap(0, 1000, 0), {"new", ""}, guest);
  std::vector<prometheus::MetricFamily> out;
  counters.AppendTo(out);
  EXPECT_FALSE(Value(out, "hostiso_domain_wait_attributed_seconds_total",
                     {{"domain", "old"}}));
  EXPECT_DOUBLE_EQ(*Value(out, "hostiso_domain_wait_attributed_seconds_total",
                          {{"domain", "new"}, {"holder", "host"}}),
                   600e-9);
}

TEST(SchedCounters, BpfRunTimeOnlyWhileStatsAreOn) {
  SchedCounters counters(10);
  SchedSnapshot s = Snap(0, 0, 0);
  s.bpf_run_ns = 2'000'000'000;
  counters.Update(s, {"", ""}, CpuSet());
  std::vector<prometheus::MetricFamily> out;
  counters.AppendTo(out);
  EXPECT_DOUBLE_EQ(*Value(out, "hostiso_sched_bpf_run_seconds_total", {}), 2);
}

}  // namespace
}  // namespace hostiso
