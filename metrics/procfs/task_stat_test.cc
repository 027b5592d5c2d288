#include "metrics/procfs/task_stat.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

// A stat line with the given pid, comm, flags, utime, stime, starttime and
// processor; everything else plausible.
std::string StatLine(int pid, const std::string& comm, std::uint64_t flags,
                     std::uint64_t utime, std::uint64_t stime,
                     std::uint64_t start, int cpu, int ppid = 1) {
  return std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) +
         " 10 10 0 -1 " + std::to_string(flags) + " 100 0 0 0 " +
         std::to_string(utime) + " " + std::to_string(stime) +
         " 0 0 20 0 1 0 " + std::to_string(start) +
         " 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 " +
         std::to_string(cpu) + " 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

TEST(TaskStatTest, ParsesFields) {
  auto st = ParseTaskStat(StatLine(42, "sshd", 4194560, 123, 45, 999, 1));
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->pid, 42);
  EXPECT_EQ(st->comm, "sshd");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->flags, 4194560u);
  EXPECT_EQ(st->utime, 123u);
  EXPECT_EQ(st->stime, 45u);
  EXPECT_EQ(st->starttime, 999u);
  EXPECT_EQ(st->processor, 1);
  EXPECT_FALSE(st->KernelThread());
}

TEST(TaskStatTest, RealKernelLine) {
  // /proc/self/stat of cat on Linux 6.1, with its trailing newline.
  auto st = ParseTaskStat(
      "19000 (cat) R 18998 18998 25063 0 -1 4194304 99 0 0 0 7 3 0 0 20 0 1 0 "
      "129203 3133440 "
      "412 18446744073709551615 94273178849280 94273178869161 140728902828160 "
      "0 0 0 0 0 0 0 0 0 "
      "17 1 0 0 0 0 0 94273178885168 94273178886784 94273187774464 "
      "140728902834826 "
      "140728902834846 140728902834846 140728902836203 0\n");
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->comm, "cat");
  EXPECT_EQ(st->state, 'R');
  EXPECT_EQ(st->ppid, 18998);
  EXPECT_EQ(st->utime, 7u);
  EXPECT_EQ(st->stime, 3u);
  EXPECT_EQ(st->starttime, 129203u);
  EXPECT_EQ(st->processor, 1);
}

TEST(TaskStatTest, CommWithSpacesAndParentheses) {
  for (std::string comm :
       {"(sd-pam) )", "a b c", ") (", "x) 1 2 (y", "", "CPU 0/KVM"}) {
    auto st = ParseTaskStat(StatLine(7, comm, 0, 5, 6, 7, 3));
    ASSERT_TRUE(st) << comm << ": " << st.error();
    EXPECT_EQ(st->comm, comm);
    EXPECT_EQ(st->utime, 5u) << comm;
    EXPECT_EQ(st->processor, 3) << comm;
  }
}

TEST(TaskStatTest, KernelThreadByFlagOrParent) {
  auto by_flag = ParseTaskStat(
      StatLine(20, "ksoftirqd/1", kPfKthread | 0x40, 1, 1, 1, 1, 5));
  ASSERT_TRUE(by_flag);
  EXPECT_TRUE(by_flag->KernelThread());
  auto by_ppid = ParseTaskStat(StatLine(21, "kworker/1:0", 0, 1, 1, 1, 1, 2));
  ASSERT_TRUE(by_ppid);
  EXPECT_TRUE(by_ppid->KernelThread());
  auto kthreadd = ParseTaskStat(StatLine(2, "kthreadd", 0, 1, 1, 1, 0, 0));
  ASSERT_TRUE(kthreadd);
  EXPECT_TRUE(kthreadd->KernelThread());
}

TEST(TaskStatTest, MalformedLinesAreErrors) {
  EXPECT_FALSE(ParseTaskStat(""));
  EXPECT_FALSE(ParseTaskStat("12 sshd S 1"));  // no parentheses
  auto truncated = ParseTaskStat("12 (sshd) S 1 10 10 0 -1 0 1 2 3 4 5");
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().find("field 15"), std::string::npos)
      << truncated.error();
  auto bad_number =
      ParseTaskStat(StatLine(12, "x", 0, 1, 1, 1, 0).replace(0, 2, "zz"));
  ASSERT_FALSE(bad_number);
  EXPECT_NE(bad_number.error().find("pid"), std::string::npos)
      << bad_number.error();
  std::string line = StatLine(12, "x", 0, 1, 1, 1, 0);
  std::size_t utime =
      line.find(" 1 1 0 0 20");  // utime stime cutime cstime priority
  ASSERT_NE(utime, std::string::npos);
  line.replace(utime + 1, 1, "u");
  auto bad_utime = ParseTaskStat(line);
  ASSERT_FALSE(bad_utime);
  EXPECT_NE(bad_utime.error().find("field 14"), std::string::npos)
      << bad_utime.error();
}

}  // namespace
}  // namespace hostiso
