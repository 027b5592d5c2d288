#include "metrics/collectors/cpu_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "metrics/testing/scrape.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using Series = std::map<std::string, double>;  // "cpu/consumer" -> value

class CpuCollectorTest : public ::testing::Test {
 protected:
  bool Collect(Series* seconds, Series* wait = nullptr) {
    bool ok = false;
    std::vector<prometheus::MetricFamily> out = scrape_.Scrape(collector_, &ok);
    for (const auto& f : out) {
      for (const auto& m : f.metric) {
        std::string key = m.label[0].value;
        if (m.label.size() > 1) key += "/" + m.label[1].value;
        if (f.name == "hostiso_cpu_seconds_total")
          (*seconds)[key] = m.counter.value;
        if (f.name == "hostiso_cpu_runqueue_wait_seconds_total" && wait)
          (*wait)[key] = m.counter.value;
        if (f.name == "hostiso_cpu_accounting_source")
          sources_[m.label[0].value] = m.label[1].value;
      }
    }
    return ok;
  }
  double hz_ = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::map<std::string, std::string> sources_;  // cpu -> source
  testing::TempTree tree_;
  CpuCollector collector_{HostPaths{tree_.Root(), "/nonexistent", "/"}};
  testing::ScrapeFixture scrape_{tree_.Root()};
};

TEST_F(CpuCollectorTest, SplitsConsumersInSeconds) {
  tree_.Write("stat", "cpu  0 0 0 0\ncpu0 300 100 50 1000 20 5 5 40 200 0\n");
  Series s;
  ASSERT_TRUE(Collect(&s));
  EXPECT_DOUBLE_EQ(s["0/host"], (300 + 100 - 200 + 50 + 5 + 5) / hz_);
  EXPECT_DOUBLE_EQ(s["0/guest"], 200 / hz_);
  EXPECT_DOUBLE_EQ(s["0/steal"], 40 / hz_);
  EXPECT_DOUBLE_EQ(s["0/idle"], 1020 / hz_);
}

TEST_F(CpuCollectorTest, BackwardStepsAreClamped) {
  tree_.Write("stat", "cpu0 100 0 0 100 0 0 0 10 0 0\n");
  Series a, b;
  ASSERT_TRUE(Collect(&a));
  tree_.Write("stat", "cpu0 90 0 0 120 0 0 0 5 0 0\n");
  ASSERT_TRUE(Collect(&b));
  EXPECT_DOUBLE_EQ(b["0/host"], a["0/host"]);
  EXPECT_DOUBLE_EQ(b["0/steal"], a["0/steal"]);
  EXPECT_DOUBLE_EQ(b["0/idle"], 120 / hz_);
}

TEST_F(CpuCollectorTest, HotplugDropsCpuAndItsCountersResumeOnReturn) {
  tree_.Write("stat", "cpu0 1 0 0 1\ncpu1 500 0 0 500\n");
  Series a, b, c, d;
  ASSERT_TRUE(Collect(&a));
  tree_.Write("stat", "cpu0 2 0 0 2\n");  // cpu1 offline
  ASSERT_TRUE(Collect(&b));
  EXPECT_EQ(b.count("1/host"), 0U);
  // Back (the kernel keeps its counters): the series resumes with the time
  // counted meanwhile.
  tree_.Write("stat", "cpu0 3 0 0 3\ncpu1 510 0 0 505\n");
  ASSERT_TRUE(Collect(&c));
  EXPECT_DOUBLE_EQ(c["1/host"], 510 / hz_);
  EXPECT_DOUBLE_EQ(c["1/idle"], 505 / hz_);
  // Back with counters restarted: a new baseline, never a step backwards.
  tree_.Write("stat", "cpu0 4 0 0 4\n");
  ASSERT_TRUE(Collect(&d));
  tree_.Write("stat", "cpu0 5 0 0 5\ncpu1 7 0 0 7\n");
  ASSERT_TRUE(Collect(&d));
  EXPECT_DOUBLE_EQ(d["1/host"], 510 / hz_);
  tree_.Write("stat", "cpu0 6 0 0 6\ncpu1 9 0 0 7\n");
  ASSERT_TRUE(Collect(&d));
  EXPECT_DOUBLE_EQ(d["1/host"], 512 / hz_);
}

TEST_F(CpuCollectorTest, SchedstatOptionalAndParsed) {
  tree_.Write("stat", "cpu0 1 0 0 1\n");
  Series s, w;
  ASSERT_TRUE(Collect(&s, &w));
  EXPECT_TRUE(w.empty());
  tree_.Write("schedstat",
              "version 15\ntimestamp 1\ncpu0 0 0 0 0 0 0 0 2500000000 0\n");
  ASSERT_TRUE(Collect(&s, &w));
  EXPECT_DOUBLE_EQ(w["0"], 2.5);
  tree_.Write("schedstat", "version 99\n");
  EXPECT_FALSE(Collect(&s, &w));
}

TEST_F(CpuCollectorTest, MissingOrBrokenStatFails) {
  Series s;
  EXPECT_FALSE(Collect(&s));
  tree_.Write("stat", "cpu0 x\n");
  EXPECT_FALSE(Collect(&s));
  // Empty, or only the aggregate line: an error, never "no CPUs".
  tree_.Write("stat", "");
  EXPECT_FALSE(Collect(&s));
  tree_.Write("stat", "cpu  1 2 3 4\nintr 5\n");
  Series none;
  EXPECT_FALSE(Collect(&none));
  EXPECT_TRUE(none.empty());
  EXPECT_NE(scrape_.last_error.find("no per-CPU"), std::string::npos)
      << scrape_.last_error;
  tree_.Write("stat", "cpu0 1 0 0 1\ncpu0 1 0 0 1\n");
  EXPECT_FALSE(Collect(&s));
}

TEST_F(CpuCollectorTest, ConsumersAddUpEvenWhenGuestExceedsUserNice) {
  // guest 500 > user+nice 300: the kernel never writes that, a broken file
  // can. Guest is clamped to user+nice, so the four add up to all columns.
  tree_.Write("stat", "cpu0 200 100 50 1000 20 5 5 40 500 0\n");
  Series s;
  ASSERT_TRUE(Collect(&s));
  const double total = (200 + 100 + 50 + 1000 + 20 + 5 + 5 + 40) / hz_;
  EXPECT_DOUBLE_EQ(s["0/host"] + s["0/guest"] + s["0/steal"] + s["0/idle"],
                   total);
  EXPECT_DOUBLE_EQ(s["0/guest"], 300 / hz_);
  EXPECT_DOUBLE_EQ(s["0/host"], 60 / hz_);
}

TEST(CpuSharesTest, SharesOfTheIntervalPerCpu) {
  CpuConsumerSeconds before{{0, {1, 2, 0, 10}}, {1, {5, 5, 5, 5}}};
  CpuConsumerSeconds after{
      {0, {2, 5, 0, 16}}, {1, {5, 5, 5, 5}}, {2, {1, 0, 0, 0}}};
  CpuShares s = SharesBetween(before, after, 10);
  EXPECT_DOUBLE_EQ(s.interval_seconds, 10);
  // CPU 1 did not move and CPU 2 is new: nothing to divide.
  ASSERT_EQ(s.cpus.size(), 1u);
  EXPECT_EQ(s.cpus[0].cpu, 0);
  EXPECT_DOUBLE_EQ(s.cpus[0].host, 0.1);
  EXPECT_DOUBLE_EQ(s.cpus[0].guest, 0.3);
  EXPECT_DOUBLE_EQ(s.cpus[0].steal, 0);
  EXPECT_DOUBLE_EQ(s.cpus[0].idle, 0.6);
}

TEST(CpuCollectorSharesTest, PublishesSharesFromTheSecondScrapeOn) {
  testing::TempTree tree;
  auto shares = std::make_shared<Latest<CpuShares>>();
  CpuCollector collector(HostPaths{tree.Root(), "/nonexistent", "/"}, shares);
  testing::ScrapeFixture scrape;
  bool ok = false;
  tree.Write("stat", "cpu0 100 0 0 100 0 0 0 0 0 0\n");
  scrape.Scrape(collector, &ok);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(shares->Get().value);  // one read: no interval yet
  // 100 ticks more: 50 guest (inside user), 25 steal, 25 idle.
  tree.Write("stat", "cpu0 150 0 0 125 0 0 0 25 50 0\n");
  scrape.Scrape(collector, &ok);
  ASSERT_TRUE(ok);
  auto got = shares->Get().value;
  ASSERT_TRUE(got);
  ASSERT_EQ(got->cpus.size(), 1u);
  EXPECT_DOUBLE_EQ(got->cpus[0].host, 0);
  EXPECT_DOUBLE_EQ(got->cpus[0].guest, 0.5);
  EXPECT_DOUBLE_EQ(got->cpus[0].steal, 0.25);
  EXPECT_DOUBLE_EQ(got->cpus[0].idle, 0.25);
}

// A QEMU (pid 4001) whose vCPU thread 4002 is pinned to CPU 1 and whose
// thread 4003 floats over CPUs 0-1, on a host whose /proc/stat counts the
// guest as system time (nested KVM).
class CpuCollectorGuestTest : public CpuCollectorTest {
 protected:
  void SetUp() override {
    tree_.Write("4001/statm", "1000 500 100 1 0 900 0\n");
    auto inv = std::make_shared<GuestInventory>();
    GuestDomain d;
    d.name = "instance-00000001";
    d.qemu_pid = 4001;
    d.vcpus.resize(2);
    d.vcpus[0] = {0, 4002, *ParseCpuList("1"), 1};
    d.vcpus[1] = {1, 4003, *ParseCpuList("0-1"), 0};
    inv->domains = {d};
    guests_->Publish(inv);
  }
  // One interval of `ticks`: CPU 1 busy in system time while the pinned vCPU
  // ran `pinned_ticks`; the floating vCPU ran as long on CPU 0.
  void Interval(int ticks, int pinned_ticks) {
    system1_ += ticks;
    user0_ += ticks;
    pinned_ns_ += static_cast<std::uint64_t>(pinned_ticks / hz_ * 1e9);
    floating_ns_ += static_cast<std::uint64_t>(ticks / hz_ * 1e9);
    tree_.Write("stat", "cpu0 " + std::to_string(user0_) +
                            " 0 0 100\ncpu1 0 0 " + std::to_string(system1_) +
                            " 100\n");
    if (!pinned_exited_) {
      tree_.Write("4001/task/4002/schedstat",
                  std::to_string(pinned_ns_) + " 0 1\n");
    }
    tree_.Write("4001/task/4003/schedstat",
                std::to_string(floating_ns_) + " 0 1\n");
  }
  std::shared_ptr<GuestInventoryHolder> guests_ =
      std::make_shared<GuestInventoryHolder>();
  std::shared_ptr<Latest<CpuShares>> shares_ =
      std::make_shared<Latest<CpuShares>>();
  CpuCollector guest_collector_{HostPaths{tree_.Root(), "/nonexistent", "/"},
                                shares_, guests_};
  long user0_ = 50, system1_ = 50;
  bool pinned_exited_ = false;
  std::uint64_t pinned_ns_ = 0, floating_ns_ = 0;
};

TEST_F(CpuCollectorGuestTest, PinnedVcpuTimeBecomesGuestTimeAfterHysteresis) {
  Series s;
  auto scrape = [&] {
    bool ok = false;
    s.clear();
    sources_.clear();
    for (const auto& f : scrape_.Scrape(guest_collector_, &ok)) {
      for (const auto& m : f.metric) {
        if (f.name == "hostiso_cpu_seconds_total")
          s[m.label[0].value + "/" + m.label[1].value] = m.counter.value;
        if (f.name == "hostiso_cpu_accounting_source")
          sources_[m.label[0].value] = m.label[1].value;
      }
    }
    return ok;
  };
  Interval(0, 0);
  ASSERT_TRUE(scrape());
  EXPECT_EQ(sources_["1"], "proc_stat");
  for (int i = 1; i < kAccountingSwitchAfter; ++i) {
    Interval(100, 100);
    ASSERT_TRUE(scrape());
    EXPECT_EQ(sources_["1"], "proc_stat");
  }
  EXPECT_DOUBLE_EQ(s["1/guest"], 0);
  Interval(100, 100);
  ASSERT_TRUE(scrape());
  EXPECT_EQ(sources_["1"], "vcpu_threads");
  Interval(100, 60);
  ASSERT_TRUE(scrape());
  EXPECT_NEAR(s["1/guest"], 160 / hz_, 1e-6);
  EXPECT_NEAR(s["1/host"] + s["1/guest"], (50 + 400) / hz_, 1e-6);
  // The status page's shares follow the published split.
  auto shares = shares_->Get().value;
  ASSERT_TRUE(shares);
  ASSERT_EQ(shares->cpus.size(), 2U);
  EXPECT_NEAR(shares->cpus[1].guest, 0.6, 1e-9);
  EXPECT_NEAR(shares->cpus[1].host, 0.4, 1e-9);
  // The floating vCPU's time is attributed nowhere: CPU 0 keeps /proc/stat.
  EXPECT_EQ(sources_["0"], "proc_stat");
  EXPECT_DOUBLE_EQ(s["0/guest"], 0);
  // The vCPU thread exits (QEMU's task dir gone): no vCPU time, no evidence,
  // the source holds and the counters keep growing from where they were.
  tree_.Remove("4001/task/4002/schedstat");
  pinned_exited_ = true;
  Interval(100, 0);
  ASSERT_TRUE(scrape());
  EXPECT_EQ(sources_["1"], "vcpu_threads");
  EXPECT_NEAR(s["1/guest"], 160 / hz_, 1e-6);
  EXPECT_NEAR(s["1/host"] + s["1/guest"], (50 + 500) / hz_, 1e-6);
}

// With the sched collector's vCPU time per CPU, every CPU it measures is
// split by it at once; when its read fails, the CPU falls back to /proc/stat.
TEST_F(CpuCollectorTest, SchedVcpuTimeSplitsMeasuredCpus) {
  auto feed = std::make_shared<VcpuHeldFeed>();
  std::uint64_t held1 = 0;
  bool fail = false;
  feed->read = [&]() -> Expected<std::vector<std::optional<std::uint64_t>>> {
    if (fail) return Error("sched not loaded");
    return std::vector<std::optional<std::uint64_t>>{std::nullopt, held1};
  };
  CpuCollector collector{HostPaths{tree_.Root(), "/nonexistent", "/"}, nullptr,
                         nullptr, feed};
  auto scrape = [&](Series* s) {
    bool ok = false;
    s->clear();
    sources_.clear();
    for (const auto& f : scrape_.Scrape(collector, &ok)) {
      for (const auto& m : f.metric) {
        if (f.name == "hostiso_cpu_seconds_total")
          (*s)[m.label[0].value + "/" + m.label[1].value] = m.counter.value;
        if (f.name == "hostiso_cpu_accounting_source")
          sources_[m.label[0].value] = m.label[1].value;
      }
    }
    return ok;
  };
  // CPU 1: /proc/stat counts everything as system time (nested KVM).
  tree_.Write("stat", "cpu0 10 0 0 100\ncpu1 0 0 50 100\n");
  Series s;
  ASSERT_TRUE(scrape(&s));  // baselines
  held1 += static_cast<std::uint64_t>(70 / hz_ * 1e9);
  tree_.Write("stat", "cpu0 110 0 0 100\ncpu1 0 0 150 100\n");
  ASSERT_TRUE(scrape(&s));
  EXPECT_EQ(sources_["1"], "sched");
  EXPECT_EQ(sources_["0"], "proc_stat");  // not measured
  EXPECT_NEAR(s["1/guest"], 70 / hz_, 1e-6);
  EXPECT_NEAR(s["1/host"], (50 + 30) / hz_, 1e-6);
  EXPECT_NEAR(s["0/guest"], 0, 1e-9);
  fail = true;
  tree_.Write("stat", "cpu0 210 0 0 100\ncpu1 0 0 250 100\n");
  ASSERT_TRUE(scrape(&s));  // the cpu collector itself still succeeds
  EXPECT_EQ(sources_["1"], "proc_stat");
  EXPECT_NEAR(s["1/guest"], 70 / hz_, 1e-6);
  EXPECT_NEAR(s["1/host"], (50 + 30 + 100) / hz_, 1e-6);
}

}  // namespace
}  // namespace hostiso
