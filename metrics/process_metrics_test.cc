#include "metrics/process_metrics.h"

#include <gtest/gtest.h>
#include <time.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace hostiso {
namespace {

TEST(ProcessMetricsTest, ParsesLimitsAndBootTime) {
  auto max = ParseMaxOpenFiles(
      "Limit                     Soft Limit           Hard Limit           "
      "Units\nMax open files            1024                 524288           "
      "    files\n");
  ASSERT_TRUE(max) << max.error();
  EXPECT_EQ(**max, 1024u);
  auto unlimited = ParseMaxOpenFiles(
      "Max open files            unlimited            unlimited files\n");
  ASSERT_TRUE(unlimited);
  EXPECT_FALSE(unlimited->has_value());
  EXPECT_FALSE(ParseMaxOpenFiles("Max cpu time unlimited\n"));
  auto btime = ParseBootTime("cpu  1 2 3 4\nbtime 1700000000\nprocesses 5\n");
  ASSERT_TRUE(btime);
  EXPECT_EQ(*btime, 1700000000u);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n"));
}

TEST(ProcessMetricsTest, ThisProcessHasTheStandardFamilies) {
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(ProcessMetrics().Append(out).ok());
  std::set<std::string> names;
  for (const auto& f : out) {
    names.insert(f.name);
    ASSERT_EQ(f.metric.size(), 1u) << f.name;
  }
  for (const char* want :
       {"process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
        "process_start_time_seconds"})
    EXPECT_EQ(names.count(want), 1u) << want;
}

double CpuSeconds(const ProcessMetrics& metrics) {
  std::vector<prometheus::MetricFamily> out;
  EXPECT_TRUE(metrics.Append(out).ok());
  for (const auto& f : out)
    if (f.name == "process_cpu_seconds_total") return f.metric[0].counter.value;
  return -1;
}

double ThreadCpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// With the CPU-time timer armed the kernel answers from its running sum: a
// thread's CPU time, spent and ended, is in it (not only the reader's).
TEST(ProcessMetricsTest, CpuSecondsCountEveryThreadsTime) {
  const ProcessMetrics metrics;
  const double before = CpuSeconds(metrics);
  double spent = 0;
  std::thread busy([&spent] {
    const double start = ThreadCpuSeconds();
    volatile unsigned long sink = 0;
    while (ThreadCpuSeconds() - start < 0.2) sink = sink + 1;
    spent = ThreadCpuSeconds() - start;
  });
  busy.join();
  const double after = CpuSeconds(metrics);
  EXPECT_GE(after - before, spent);
  EXPECT_LT(after - before, spent + 0.5);  // no other thread is busy here
}

}  // namespace
}  // namespace hostiso
