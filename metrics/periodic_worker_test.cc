#include "metrics/periodic_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace hostiso {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicWorkerTest, RunsOnScheduleAndOnTrigger) {
  std::atomic<int> runs{0};
  PeriodicWorker w("test", [&] {
    ++runs;
    return std::chrono::duration_cast<PeriodicWorker::Clock::duration>(1h);
  });
  w.Start();
  ASSERT_TRUE(w.WaitForSteps(0, 5s));
  EXPECT_EQ(runs.load(), 1);
  w.Trigger();  // without it the next run is an hour away
  ASSERT_TRUE(w.WaitForSteps(1, 5s));
  EXPECT_EQ(runs.load(), 2);
  EXPECT_TRUE(w.Stop(2s));
}

TEST(PeriodicWorkerTest, StopLeavesAStuckStepBehindWithinTheGrace) {
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto entered = std::make_shared<std::atomic<bool>>(false);
  PeriodicWorker w("stuck", [release, entered] {
    entered->store(true);
    while (!release->load()) std::this_thread::sleep_for(5ms);
    return PeriodicWorker::Clock::duration(1h);
  });
  w.Start();
  while (!entered->load()) std::this_thread::sleep_for(1ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(w.Stop(200ms));  // the step is stuck: left behind, detached
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  release->store(true);  // the detached thread ends on its own
  std::this_thread::sleep_for(50ms);
}

TEST(PeriodicWorkerTest, TriggerHandleOutlivesTheWorker) {
  std::function<void()> handle;
  {
    PeriodicWorker w("short",
                     [] { return PeriodicWorker::Clock::duration(1h); });
    handle = w.TriggerHandle();
  }
  handle();  // no crash: the handle holds the shared state
}

}  // namespace
}  // namespace hostiso
