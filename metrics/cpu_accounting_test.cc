#include "metrics/cpu_accounting.h"

#include <gtest/gtest.h>

#include <limits>
#include <numeric>

namespace hostiso {
namespace {

double Total(const ConsumerTicks& t) {
  return std::accumulate(t.begin(), t.end(), 0.0);
}

// Feeds one CPU whose /proc/stat counts a spinning guest as host time (the
// nested-KVM case): each interval `busy` ticks of host, `idle` of idle, and
// the pinned vCPUs ran `vcpu` ticks.
class NestedCpu {
 public:
  void Interval(double busy, double idle, double vcpu, double guest = 0) {
    raw_[kHost] += busy - guest;
    raw_[kGuest] += guest;
    raw_[kIdle] += idle;
    AdvanceCpuAccount(account_, raw_, vcpu);
  }
  CpuAccount account_;
  ConsumerTicks raw_{1000, 0, 0, 5000};
};

TEST(CpuAccountingTest, FirstSightPublishesProcStatSplit) {
  CpuAccount a;
  AdvanceCpuAccount(a, {300, 200, 40, 1020}, 0);
  EXPECT_EQ(a.published, (ConsumerTicks{300, 200, 40, 1020}));
  EXPECT_EQ(a.source, AccountingSource::kProcStat);
}

TEST(CpuAccountingTest, GuestColumnThatGrowsWithVcpusKeepsProcStat) {
  CpuAccount a;
  AdvanceCpuAccount(a, {0, 0, 0, 0}, 0);
  ConsumerTicks raw{0, 0, 0, 0};
  for (int i = 0; i < 10; ++i) {
    raw[kHost] += 5;
    raw[kGuest] += 95;  // bare-metal KVM: the column has the vCPU time
    AdvanceCpuAccount(a, raw, 96);
    EXPECT_EQ(a.source, AccountingSource::kProcStat);
  }
  EXPECT_EQ(a.published, raw);
}

TEST(CpuAccountingTest, MissingGuestTimeSwitchesAfterHysteresis) {
  NestedCpu cpu;
  cpu.Interval(0, 100, 0);  // first sight
  for (int i = 1; i < kAccountingSwitchAfter; ++i) {
    cpu.Interval(100, 0, 98);
    EXPECT_EQ(cpu.account_.source, AccountingSource::kProcStat) << i;
  }
  const double guest_before = cpu.account_.published[kGuest];
  EXPECT_EQ(guest_before, 0);
  cpu.Interval(100, 0, 98);
  EXPECT_EQ(cpu.account_.source, AccountingSource::kVcpuThreads);
  EXPECT_DOUBLE_EQ(cpu.account_.published[kGuest], 98);
  cpu.Interval(100, 0, 90);
  EXPECT_DOUBLE_EQ(cpu.account_.published[kGuest], 188);
  EXPECT_DOUBLE_EQ(Total(cpu.account_.published), Total(cpu.raw_));
}

TEST(CpuAccountingTest, OddIntervalsDoNotFlap) {
  NestedCpu cpu;
  cpu.Interval(0, 100, 0);
  // Alternating evidence never reaches kAccountingSwitchAfter in a row.
  for (int i = 0; i < 20; ++i) {
    cpu.Interval(100, 0, 98);
    cpu.Interval(100, 0, 98, /*guest=*/90);
  }
  EXPECT_EQ(cpu.account_.source, AccountingSource::kProcStat);
  // Intervals without evidence (idle guests) neither count nor break a run.
  for (int i = 0; i < kAccountingSwitchAfter; ++i) {
    cpu.Interval(100, 0, 98);
    cpu.Interval(1, 99, 0);
  }
  EXPECT_EQ(cpu.account_.source, AccountingSource::kVcpuThreads);
}

TEST(CpuAccountingTest, SwitchingBackNeverStepsBackwards) {
  NestedCpu cpu;
  cpu.Interval(0, 100, 0);
  for (int i = 0; i < kAccountingSwitchAfter; ++i) cpu.Interval(100, 0, 100);
  ASSERT_EQ(cpu.account_.source, AccountingSource::kVcpuThreads);
  ConsumerTicks before = cpu.account_.published;
  // The column starts to count the guests (say, the host was fixed): back to
  // proc_stat, and every counter only grows from where it was.
  for (int i = 0; i < kAccountingSwitchAfter; ++i) {
    cpu.Interval(100, 0, 100, /*guest=*/97);
    for (std::size_t c = 0; c < 4; ++c)
      EXPECT_GE(cpu.account_.published[c], before[c]) << c;
    before = cpu.account_.published;
  }
  EXPECT_EQ(cpu.account_.source, AccountingSource::kProcStat);
  EXPECT_DOUBLE_EQ(Total(cpu.account_.published), Total(cpu.raw_));
}

TEST(CpuAccountingTest, VcpuRunAboveBusyIsCarriedNotLost) {
  NestedCpu cpu;
  cpu.Interval(0, 100, 0);
  for (int i = 0; i < kAccountingSwitchAfter; ++i) cpu.Interval(100, 0, 100);
  const double guest = cpu.account_.published[kGuest];
  const double host = cpu.account_.published[kHost];
  // Skew: the vCPU reads saw 3 ticks more than /proc/stat's interval, then 3
  // fewer. Guest never exceeds busy, and over both intervals matches.
  cpu.Interval(100, 0, 103);
  EXPECT_DOUBLE_EQ(cpu.account_.published[kGuest], guest + 100);
  EXPECT_DOUBLE_EQ(cpu.account_.published[kHost], host);
  cpu.Interval(100, 0, 97);
  EXPECT_DOUBLE_EQ(cpu.account_.published[kGuest], guest + 200);
  // A vCPU time far above the CPU's busy time (a stale pinning) is capped:
  // the carry never exceeds a tenth of an interval.
  cpu.Interval(100, 0, 10000);
  EXPECT_LE(cpu.account_.carry, 10.0);
  EXPECT_DOUBLE_EQ(Total(cpu.account_.published), Total(cpu.raw_));
}

TEST(CpuAccountingTest, CounterResetOrWrapRebaselines) {
  CpuAccount a;
  AdvanceCpuAccount(a, {500, 0, 0, 500}, 0);
  AdvanceCpuAccount(a, {7, 0, 0, 7}, 0);  // restarted
  EXPECT_EQ(a.published, (ConsumerTicks{500, 0, 0, 500}));
  AdvanceCpuAccount(a, {17, 0, 0, 27}, 0);  // grows from the new baseline
  EXPECT_EQ(a.published, (ConsumerTicks{510, 0, 0, 520}));
}

TEST(CpuAccountingTest, OneFieldSteppingBackIsNotCountedTwice) {
  CpuAccount a;
  AdvanceCpuAccount(a, {100, 0, 10, 100}, 0);
  AdvanceCpuAccount(a, {110, 0, 10, 98}, 0);  // iowait stepped back
  EXPECT_EQ(a.published, (ConsumerTicks{110, 0, 10, 100}));
  AdvanceCpuAccount(a, {110, 0, 10, 103}, 0);
  EXPECT_EQ(a.published, (ConsumerTicks{110, 0, 10, 103}));
}

TEST(CpuAccountingTest, NonsenseVcpuRunIsIgnored) {
  CpuAccount a;
  AdvanceCpuAccount(a, {0, 0, 0, 0}, 0);
  AdvanceCpuAccount(a, {100, 0, 0, 0}, -5);
  AdvanceCpuAccount(a, {200, 0, 0, 0},
                    std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(a.published, (ConsumerTicks{200, 0, 0, 0}));
}

TEST(VcpuRunTrackerTest, DeltasPerCpuOfThreadsSeenTwice) {
  VcpuRunTracker t;
  EXPECT_TRUE(t.Advance({{10, 1, 1000}, {11, 1, 5000}}).empty());
  auto d = t.Advance({{10, 1, 1500}, {11, 1, 5100}, {12, 3, 9000}});
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[1], 600U);  // thread 12 is new: a baseline only
  d = t.Advance({{10, 1, 1600}, {12, 3, 9900}});
  ASSERT_EQ(d.size(), 4U);
  EXPECT_EQ(d[1], 100U);
  EXPECT_EQ(d[3], 900U);
}

TEST(VcpuRunTrackerTest, ExitedReappearedMovedOrResetThreadsRestart) {
  VcpuRunTracker t;
  t.Advance({{10, 1, 1000}, {11, 1, 1000}, {12, 1, 1000}});
  t.Advance({{11, 2, 2000}, {12, 1, 10}});  // 10 gone, 11 moved, 12 reused
  auto d = t.Advance({{10, 1, 9000}, {11, 2, 2500}, {12, 1, 60}});
  ASSERT_EQ(d.size(), 3U);
  EXPECT_EQ(d[1], 50U);   // 12 from its new baseline; 10 back: baseline only
  EXPECT_EQ(d[2], 500U);  // 11 on its new CPU
}

TEST(VcpuRunTrackerTest, UnknownOrImpossibleCpusAreSkipped) {
  VcpuRunTracker t;
  t.Advance({{10, -1, 1}, {11, 1 << 20, 1}, {0, 1, 1}, {13, 0, 1}});
  auto d = t.Advance({{10, -1, 9}, {11, 1 << 20, 9}, {0, 1, 9}, {13, 0, 9}});
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0], 8U);
}

TEST(CpuAccountingTest, SchedMeasurementSplitsAtOnceAndFallsBackWhenLost) {
  CpuAccount a;
  AdvanceCpuAccount(a, {0, 0, 0, 0}, 0);
  // The guest column reads 90, the vCPU threads held the CPU 95: sched wins
  // at once, no vote (the column is consistent, which would keep proc_stat).
  AdvanceCpuAccount(a, {10, 90, 0, 0}, 96, 95.0);
  EXPECT_EQ(a.source, AccountingSource::kSched);
  EXPECT_EQ(a.published, (ConsumerTicks{5, 95, 0, 0}));
  // More held time than busy ticks (the two are read apart): capped, the
  // rest carried to the next interval.
  AdvanceCpuAccount(a, {20, 180, 0, 0}, 0, 104.0);
  EXPECT_EQ(a.published, (ConsumerTicks{5, 195, 0, 0}));
  AdvanceCpuAccount(a, {70, 230, 0, 0}, 0, 96.0);
  EXPECT_EQ(a.published, (ConsumerTicks{5, 295, 0, 0}));
  // sched stops: back to the guest column, counters never step back.
  AdvanceCpuAccount(a, {120, 280, 0, 0}, 0);
  EXPECT_EQ(a.source, AccountingSource::kProcStat);
  EXPECT_EQ(a.published, (ConsumerTicks{55, 345, 0, 0}));
  EXPECT_EQ(AccountingSourceName(AccountingSource::kSched), "sched");
}

TEST(CpuAccountingTest, NonsenseSchedTimeIsNotAMeasurement) {
  CpuAccount a;
  AdvanceCpuAccount(a, {0, 0, 0, 0}, 0);
  AdvanceCpuAccount(a, {100, 0, 0, 0}, 0, -1.0);
  AdvanceCpuAccount(a, {200, 0, 0, 0}, 0,
                    std::numeric_limits<double>::infinity());
  EXPECT_EQ(a.source, AccountingSource::kProcStat);
  EXPECT_EQ(a.published, (ConsumerTicks{200, 0, 0, 0}));
}

TEST(VcpuHeldTrackerTest, DeltasOnlyWithABaseline) {
  using Held = std::vector<std::optional<std::uint64_t>>;
  VcpuHeldTracker t;
  EXPECT_EQ(t.Advance({100, std::nullopt, 50}), (Held{{}, {}, {}}));
  EXPECT_EQ(t.Advance({150, 10, 40, 7}), (Held{50, {}, {}, {}}));
  EXPECT_EQ(t.Advance({160, 30, 45}), (Held{10, 20, 5}));
  t.Reset();
  EXPECT_EQ(t.Advance({170, 40, 50}), (Held{{}, {}, {}}));
}

}  // namespace
}  // namespace hostiso
