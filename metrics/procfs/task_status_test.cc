#include "metrics/procfs/task_status.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

constexpr const char* kStatus =
    "Name:\tqemu-system-x86\n"
    "Cpus_allowed:\tff\n"
    "Cpus_allowed_list:\t0-7\n"
    "Mems_allowed:\t00000000,00000003\n"
    "Mems_allowed_list:\t0-1\n"
    "voluntary_ctxt_switches:\t10\n";

TEST(TaskStatusTest, MemsAllowedList) {
  auto nodes = ParseMemsAllowedList(kStatus);
  ASSERT_TRUE(nodes) << nodes.error();
  EXPECT_EQ(*nodes, CpuSet::FromList({0, 1}));
  auto cpus = ParseCpusAllowedList(kStatus);
  ASSERT_TRUE(cpus) << cpus.error();
  EXPECT_EQ(cpus->Count(), 8);
}

TEST(TaskStatusTest, MemsAllowedListMustStartALineAndHoldNodes) {
  auto missing = ParseMemsAllowedList("Name:\tMems_allowed_list: 1\n");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "status: no Mems_allowed_list line");
  EXPECT_FALSE(ParseMemsAllowedList("Mems_allowed_list:\t\n"));
  EXPECT_FALSE(ParseMemsAllowedList("Mems_allowed_list:\t1-0\n"));
  EXPECT_FALSE(ParseMemsAllowedList("Mems_allowed_list:\tzero\n"));
  auto last_line = ParseMemsAllowedList("Name:\tx\nMems_allowed_list:\t3");
  ASSERT_TRUE(last_line) << last_line.error();
  EXPECT_EQ(*last_line, CpuSet::FromList({3}));
}

}  // namespace
}  // namespace hostiso
