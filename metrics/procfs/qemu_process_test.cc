#include "metrics/procfs/qemu_process.h"

#include <gtest/gtest.h>

#include <string>

#include "metrics/procfs/statm.h"
#include "metrics/procfs/task_schedstat.h"
#include "metrics/procfs/task_stat.h"
#include "metrics/procfs/task_status.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using namespace std::string_literals;

TEST(TaskSchedstat, ThreeFields) {
  auto s = ParseTaskSchedstat("123456789 987654 42\n");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->run_ns, 123456789u);
  EXPECT_EQ(s->delay_ns, 987654u);
  EXPECT_EQ(s->timeslices, 42u);
  EXPECT_FALSE(ParseTaskSchedstat("1 2\n"));
  EXPECT_FALSE(ParseTaskSchedstat("1 x 3\n"));
  EXPECT_FALSE(ParseTaskSchedstat(""));
  // Runs of spaces and tabs separate fields, as SplitFields did.
  auto blanks = ParseTaskSchedstat(" 7 \t 8  9 10\n");
  ASSERT_TRUE(blanks);
  EXPECT_EQ(blanks->run_ns, 7U);
  EXPECT_EQ(blanks->delay_ns, 8U);
  // A number glued to other bytes, a sign, or one beyond 2^64 - 1 is no
  // counter.
  EXPECT_FALSE(ParseTaskSchedstat("1 2x 3\n"));
  EXPECT_FALSE(ParseTaskSchedstat("1 -2 3\n"));
  EXPECT_FALSE(ParseTaskSchedstat("1 2 18446744073709551616\n"));
  EXPECT_FALSE(ParseTaskSchedstat("   \n"));
  auto max = ParseTaskSchedstat("18446744073709551615 0 0");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->run_ns, 18446744073709551615U);
}

TEST(Statm, ResidentAndShared) {
  auto r = ParseStatm("1066170 132020 2915 2751 0 171245 0\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->resident, 132020u);
  EXPECT_EQ(r->shared, 2915u);
  EXPECT_FALSE(ParseStatm("12\n"));
}

TEST(TaskStat, ProcessorAfterCommWithSpacesAndParens) {
  // Field 39 is 7 here; the comm "CPU 0/KVM) (x" holds spaces and ')'.
  std::string stat =
      "4251 (CPU 0/KVM) (x) R 1 4242 4242 0 -1 4194560 6 0 0 0 5012 1201 0 0 "
      "20 0 6 0 "
      "12345 1234567 3000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 -1 7 "
      "0 0 0 0 0\n";
  auto st = ParseTaskStat(stat);
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->processor, 7);
  EXPECT_EQ(st->comm, "CPU 0/KVM) (x");
  EXPECT_FALSE(ParseTaskStat("4251 (x) R 1 2 3\n"));
  EXPECT_FALSE(ParseTaskStat("no paren"));
}

TEST(VcpuComm, Names) {
  EXPECT_EQ(VcpuIndexFromComm("CPU 0/KVM\n"), 0);
  EXPECT_EQ(VcpuIndexFromComm("CPU 12/KVM"), 12);
  EXPECT_EQ(VcpuIndexFromComm("CPU 3/TCG"), 3);
  EXPECT_EQ(VcpuIndexFromComm("qemu-system-x86"), std::nullopt);
  EXPECT_EQ(VcpuIndexFromComm("CPU x/KVM"), std::nullopt);
  EXPECT_EQ(VcpuIndexFromComm("CPU 1/XYZ"), std::nullopt);
  EXPECT_EQ(VcpuIndexFromComm("IO mon_iothread"), std::nullopt);
}

TEST(QemuCmdline, GuestName) {
  EXPECT_EQ(
      QemuGuestNameFromCmdline(
          "/usr/bin/qemu-system-x86_64\0-name\0guest=instance-00000001,debug-threads=on\0-S\0"s),
      "instance-00000001");
  // QEMU doubles commas inside option values.
  EXPECT_EQ(QemuGuestNameFromCmdline(
                "qemu-system-x86_64\0-name\0guest=a,,b,debug-threads=on\0"s),
            "a,b");
  EXPECT_EQ(QemuGuestNameFromCmdline(
                "qemu-kvm\0-name\0debug-threads=on,guest=late\0"s),
            "late");
  EXPECT_EQ(QemuGuestNameFromCmdline("qemu-kvm\0-name\0oldstyle\0"s),
            "oldstyle");
  EXPECT_EQ(QemuGuestNameFromCmdline("/usr/bin/python3\0-name\0guest=x\0"s),
            std::nullopt);
  EXPECT_EQ(QemuGuestNameFromCmdline("qemu-system-x86_64\0-m\0512\0"s),
            std::nullopt);
  EXPECT_EQ(QemuGuestNameFromCmdline(""), std::nullopt);
}

TEST(ProcScan, FindsQemuAndVcpuThreads) {
  testing::TempTree t;
  t.Write("100/cmdline",
          "/usr/bin/qemu-system-x86_64\0-name\0guest=vm-a,debug-threads=on\0"s);
  t.Write("100/task/100/comm", "qemu-system-x86\n");
  t.Write("100/task/101/comm", "CPU 0/KVM\n");
  t.Write("100/task/102/comm", "CPU 1/KVM\n");
  t.Write("100/task/103/comm", "IO mon_iothread\n");
  t.Write("100/task/101/status",
          "Name:\tCPU 0/KVM\nCpus_allowed_list:\t2-3,8\n");
  t.Write("200/cmdline", "/usr/sbin/sshd\0-D\0"s);
  t.Write("self/cmdline", "qemu\0-name\0guest=not-a-pid\0"s);
  auto procs = ScanQemuProcesses(t.Root());
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs.at("vm-a"), 100);
  auto tids = FindVcpuThreads(t.Root(), 100);
  ASSERT_EQ(tids.size(), 2u);
  EXPECT_EQ(tids.at(0), 101);
  EXPECT_EQ(tids.at(1), 102);
  EXPECT_TRUE(FindVcpuThreads(t.Root(), 999).empty());
}

TEST(TaskStatus, CpusAllowedList) {
  auto aff =
      ParseCpusAllowedList("Name:\tCPU 0/KVM\nCpus_allowed_list:\t2-3,8\n");
  ASSERT_TRUE(aff) << aff.error();
  EXPECT_EQ(aff->ToString(), "2-3,8");
  EXPECT_FALSE(ParseCpusAllowedList("Name:\tx\n"));
  EXPECT_FALSE(ParseCpusAllowedList("Name:\tCpus_allowed_list: 1\n"));
  EXPECT_FALSE(ParseCpusAllowedList("Cpus_allowed_list:\tabc\n"));
}

}  // namespace
}  // namespace hostiso
