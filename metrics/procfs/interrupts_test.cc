#include <gtest/gtest.h>

#include <map>

#include "metrics/collectors/interrupts_collector.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

constexpr const char* kX86 =
    "           CPU0       CPU1       \n"
    "  0:         22          0   IO-APIC   2-edge      timer\n"
    "  8:          0          1   IO-APIC   8-edge      rtc0\n"
    "  9:          0          0   IO-APIC   9-fasteoi   acpi\n"
    " 16:        100          0   IO-APIC  16-fasteoi   ehci_hcd:usb1, "
    "uhci_hcd:usb2\n"
    " 45:       1000         50   IR-PCI-MSI 524288-edge      nvme0q0\n"
    " 46:          0          0   IR-PCI-MSI 524289-edge\n"
    "NMI:          3          4   Non-maskable interrupts\n"
    "LOC:     123456     654321   Local timer interrupts\n"
    "SPU:          0          0   Spurious interrupts\n"
    "RES:        500        600   Rescheduling interrupts\n"
    "CAL:         10         20   Function call interrupts\n"
    "TLB:          1          2   TLB shootdowns\n"
    "ERR:          0\n"
    "MIS:          0\n"
    "PIN:          0          0   Posted-interrupt notification event\n";

TEST(ParseInterruptsTest, X86Layout) {
  auto t = ParseInterrupts(kX86);
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->cpus, (std::vector<int>{0, 1}));
  ASSERT_EQ(t->rows.size(), 15u);
  const InterruptRow& nvme = t->rows[4];
  EXPECT_EQ(nvme.irq, "45");
  EXPECT_TRUE(nvme.device);
  EXPECT_EQ(nvme.counts, (std::vector<std::uint64_t>{1000, 50}));
  EXPECT_EQ(nvme.name, "nvme0q0");
  EXPECT_EQ(nvme.description, "IR-PCI-MSI 524288-edge nvme0q0");
  EXPECT_EQ(t->rows[3].name, "ehci_hcd:usb1, uhci_hcd:usb2");
  EXPECT_EQ(t->rows[0].name, "timer");
  // No handler name: the trigger column is all there is; harmless in a subject.
  EXPECT_EQ(t->rows[5].counts.size(), 2u);
  const InterruptRow& loc = t->rows[7];
  EXPECT_EQ(loc.irq, "LOC");
  EXPECT_FALSE(loc.device);
  EXPECT_EQ(loc.counts, (std::vector<std::uint64_t>{123456, 654321}));
  const InterruptRow& err = t->rows[12];
  EXPECT_EQ(err.irq, "ERR");
  EXPECT_EQ(err.counts, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(err.name, "");
}

TEST(ParseInterruptsTest, OfflineCpusAreSkippedInTheHeader) {
  auto t = ParseInterrupts(
      "     CPU0  CPU2  CPU3\n 5:  1 2 3  GICv3  27 Level  arch_timer\n");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->cpus, (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(t->rows[0].name, "arch_timer");
}

TEST(ParseInterruptsTest, Errors) {
  auto empty = ParseInterrupts("");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().find("no header"), std::string::npos)
      << empty.error();
  auto header = ParseInterrupts("  CPU0 CPUX\n");
  ASSERT_FALSE(header);
  EXPECT_NE(header.error().find("line 1"), std::string::npos) << header.error();
  auto nocolon = ParseInterrupts("  CPU0\n  45  1 edge x\n");
  ASSERT_FALSE(nocolon);
  EXPECT_NE(nocolon.error().find("line 2"), std::string::npos)
      << nocolon.error();
  auto short_device = ParseInterrupts("  CPU0 CPU1\n 45: 1 IR-PCI-MSI x\n");
  ASSERT_FALSE(short_device);
  EXPECT_NE(short_device.error().find("IRQ 45"), std::string::npos)
      << short_device.error();
  auto noname = ParseInterrupts("  CPU0\n : 1\n");
  EXPECT_FALSE(noname);
}

std::map<std::string, std::string> AsMap(
    const std::vector<detail::InterruptTracker::Fired>& f) {
  std::map<std::string, std::string> m;
  for (const auto& x : f) m[x.subject] = x.cpus.ToString();
  return m;
}

TEST(InterruptTrackerTest, FiresOnWatchedCpusSinceThePreviousUpdate) {
  detail::InterruptTracker tracker;
  CpuSet guest = CpuSet::FromList({1});
  auto first = tracker.Update(*ParseInterrupts(kX86), guest);
  EXPECT_TRUE(first.empty());  // no previous counts yet
  EXPECT_EQ(tracker.PerCpuTotals().at(0), 22u + 100 + 1000);
  EXPECT_EQ(tracker.PerCpuTotals().at(1), 1u + 50);
  // nvme0q0 fires on CPU 1, timer on CPU 0, LOC and RES everywhere.
  std::string next = kX86;
  next.replace(next.find("1000         50"), 15, "1000         57");
  next.replace(next.find("22          0"), 13, "99          0");
  next.replace(next.find("123456     654321"), 17, "223456     754321");
  auto fired = tracker.Update(*ParseInterrupts(next), guest);
  EXPECT_EQ(AsMap(fired),
            (std::map<std::string, std::string>{{"irq 45 (nvme0q0)", "1"}}));
  EXPECT_EQ(tracker.PerCpuTotals().at(1), 51u + 7);
  EXPECT_EQ(tracker.PerCpuTotals().at(0), 1122u + 77);
  // Nothing new: no violation.
  EXPECT_TRUE(tracker.Update(*ParseInterrupts(next), guest).empty());
}

TEST(InterruptTrackerTest, CountersNeverDecrease) {
  detail::InterruptTracker tracker;
  CpuSet guest = CpuSet::FromList({1});
  tracker.Update(
      *ParseInterrupts(
          "CPU0 CPU1\n 45: 10 20 MSI 1-edge a\n 46: 5 5 MSI 2-edge b\n"),
      guest);
  EXPECT_EQ(tracker.PerCpuTotals().at(1), 25u);
  // IRQ 46 is freed: its row disappears, the totals stay.
  tracker.Update(*ParseInterrupts("CPU0 CPU1\n 45: 10 20 MSI 1-edge a\n"),
                 guest);
  EXPECT_EQ(tracker.PerCpuTotals().at(1), 25u);
  // IRQ 45 is reallocated for another device with fresh counts: new increase.
  auto fired = tracker.Update(
      *ParseInterrupts("CPU0 CPU1\n 45: 0 3 MSI 1-edge c\n"), guest);
  EXPECT_EQ(tracker.PerCpuTotals().at(1), 28u);
  EXPECT_EQ(AsMap(fired),
            (std::map<std::string, std::string>{{"irq 45 (c)", "1"}}));
  // Same device, counts restarted lower: counted from zero again.
  tracker.Update(*ParseInterrupts("CPU0 CPU1\n 45: 0 1 MSI 1-edge c\n"), guest);
  EXPECT_EQ(tracker.PerCpuTotals().at(1), 29u);
}

TEST(InterruptsCollectorTest, ReportsViolationsOnlyWithIsolation) {
  testing::TempTree tree;
  tree.Write("interrupts",
             "CPU0 CPU1\n 45: 10 20 MSI 1-edge nvme0q0\nLOC: 5 5 Local\n");
  InterruptsCollector collector(HostPaths{tree.Root(), "/nonexistent", "/"});
  GuestSampler sampler("/nonexistent");
  IsolationSnapshot iso;
  GuestCpuSets sets;
  sets.source = GuestSetSource::kFlag;
  sets.legacy = CpuSet::FromList({1});
  iso.roles = CpuRoles(sets, CpuSet::FromList({0, 1}));
  ViolationRegistry reg;
  ScrapeContext ctx{iso, reg, sampler};
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(collector.Collect(ctx, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "hostiso_cpu_device_interrupts_total");
  ASSERT_EQ(out[0].metric.size(), 2u);
  EXPECT_EQ(out[0].metric[1].counter.value, 20);
  tree.Write("interrupts",
             "CPU0 CPU1\n 45: 10 25 MSI 1-edge nvme0q0\nLOC: 9 9 Local\n");
  out.clear();
  ASSERT_TRUE(collector.Collect(ctx, out));
  auto v = reg.Current(ViolationKind::kIrqOnGuestCpu);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].subject, "irq 45 (nvme0q0)");
  // Without a guest set: nothing to report.
  IsolationSnapshot plain;
  ScrapeContext ctx2{plain, reg, sampler};
  tree.Write("interrupts", "CPU0 CPU1\n 45: 10 30 MSI 1-edge nvme0q0\n");
  ASSERT_TRUE(collector.Collect(ctx2, out));
  EXPECT_TRUE(reg.Current(ViolationKind::kIrqOnGuestCpu).empty());
  // Unreadable or malformed: the collector fails.
  tree.Write("interrupts", "garbage\n");
  EXPECT_FALSE(collector.Collect(ctx2, out));
  tree.Remove("interrupts");
  EXPECT_FALSE(collector.Collect(ctx2, out));
}

}  // namespace
}  // namespace hostiso
