#include "metrics/guest_sample.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "metrics/testing/temp_tree.h"
#include "metrics/testing/threads.h"

namespace hostiso {
namespace {

// Stands in for the sched collector's task iterator.
class FakeSource : public VcpuCounterSource {
 public:
  Expected<std::vector<VcpuCounters>> ReadVcpuCounters() override {
    ++reads;
    if (!error.empty()) return Error(error);
    return rows;
  }
  std::vector<VcpuCounters> rows;
  std::string error;
  int reads = 0;
};

class GuestSampleTest : public ::testing::Test {
 protected:
  void SetUp() override { tree_.Write("100/statm", "1000 250 10 1 0 100 0\n"); }

  // /proc/100/task/TID/{schedstat,stat}, as QEMU's vCPU thread would have.
  void WriteThread(pid_t tid, std::uint64_t run, std::uint64_t delay,
                   int cpu) const {
    const std::string dir = "100/task/" + std::to_string(tid);
    tree_.Write(dir + "/schedstat",
                std::to_string(run) + " " + std::to_string(delay) + " 10\n");
    std::string stat = std::to_string(tid) + " (CPU 0/KVM) S";
    for (int f = 4; f <= 38; ++f) stat += " 0";
    tree_.Write(dir + "/stat",
                stat + " " + std::to_string(cpu) + " 0 0 0 0 0\n");
  }

  // QEMU 100 with vCPU threads 101 (pinned to CPU 3) and 102 (floating).
  static std::shared_ptr<const GuestInventory> Inventory() {
    auto inv = std::make_shared<GuestInventory>();
    GuestDomain& d = inv->domains.emplace_back();
    d.name = "instance-1";
    d.qemu_pid = 100;
    GuestVcpu& pinned = d.vcpus.emplace_back();
    pinned.index = 0;
    pinned.tid = 101;
    pinned.affinity = CpuSet::FromList({3});
    GuestVcpu& floating = d.vcpus.emplace_back();
    floating.index = 1;
    floating.tid = 102;
    floating.affinity = CpuSet::FromList({2, 5});
    floating.last_cpu = 2;
    return inv;
  }

  testing::TempTree tree_;
};

TEST_F(GuestSampleTest, CountersFromTheSourceNeedNoThreadFile) {
  // No task files at all: every value must come from the table.
  const VcpuCounterTable table(
      {{102, 100, 5, 70, 80, 9}, {101, 100, 4, 10, 20, 3}});
  const GuestSample s = SampleGuests(tree_.Root(), Inventory(), &table);
  ASSERT_EQ(s.domains.size(), 1u);
  const DomainSample& d = s.domains[0];
  EXPECT_TRUE(d.running);
  ASSERT_TRUE(d.statm.has_value());
  EXPECT_EQ(d.vcpus[0].run_ns, 10u);
  EXPECT_EQ(d.vcpus[0].delay_ns, 20u);
  EXPECT_EQ(d.vcpus[0].cpu, 3);  // pinned: its only CPU, not the table's
  EXPECT_EQ(d.vcpus[1].run_ns, 70u);
  EXPECT_EQ(d.vcpus[1].delay_ns, 80u);
  EXPECT_EQ(d.vcpus[1].cpu, 5);  // floating: where the kernel last ran it
  EXPECT_EQ(s.vcpus_from_source, 2u);
}

TEST_F(GuestSampleTest, ThreadMissingFromTheSourceIsReadFromItsFiles) {
  WriteThread(102, 7'000, 8'000, 4);
  const VcpuCounterTable table({{101, 100, 3, 10, 20, 3}});
  const GuestSample s = SampleGuests(tree_.Root(), Inventory(), &table);
  const DomainSample& d = s.domains[0];
  EXPECT_EQ(d.vcpus[0].run_ns, 10u);
  EXPECT_EQ(d.vcpus[1].run_ns, 7'000u);
  EXPECT_EQ(d.vcpus[1].delay_ns, 8'000u);
  EXPECT_EQ(d.vcpus[1].cpu, 4);
  EXPECT_EQ(s.vcpus_from_source, 1u);
}

TEST_F(GuestSampleTest, RowOfAnotherProcessIsNotUsed) {
  // Thread id 101 now belongs to process 555 (the id was reused): its
  // counters are not this vCPU's; the file under QEMU's task dir decides.
  WriteThread(101, 1'000, 2'000, 3);
  const VcpuCounterTable table({{101, 555, 3, 99, 99, 1}});
  const GuestSample s = SampleGuests(tree_.Root(), Inventory(), &table);
  EXPECT_EQ(s.domains[0].vcpus[0].run_ns, 1'000u);
  // 102 has neither a row nor a file: unknown, never a default.
  EXPECT_FALSE(s.domains[0].vcpus[1].run_ns.has_value());
  EXPECT_EQ(s.domains[0].vcpus[1].cpu, 2);  // libvirt's last view
  EXPECT_EQ(s.vcpus_from_source, 0u);
}

TEST_F(GuestSampleTest, StoppedQemuIsNotServedFromTheSource) {
  tree_.Remove("100/statm");
  const VcpuCounterTable table({{101, 100, 3, 10, 20, 3}});
  const GuestSample s = SampleGuests(tree_.Root(), Inventory(), &table);
  EXPECT_FALSE(s.domains[0].running);
  EXPECT_FALSE(s.domains[0].vcpus[0].run_ns.has_value());
}

TEST_F(GuestSampleTest, SamplerReadsTheSourceOncePerScrape) {
  auto source = std::make_shared<FakeSource>();
  source->rows = {{101, 100, 3, 10, 20, 3}, {102, 100, 2, 30, 40, 1}};
  GuestSampler sampler(tree_.Root());
  sampler.SetVcpuCounterSource(source);
  const auto inv = Inventory();
  EXPECT_EQ(sampler.Sample(inv).domains[0].vcpus[1].run_ns, 30u);
  EXPECT_EQ(sampler.Sample(inv).vcpus_from_source, 2u);
  EXPECT_EQ(source->reads, 1);
  sampler.Reset();  // the next scrape; the source stays
  source->rows[1].run_ns = 31;
  EXPECT_EQ(sampler.Sample(inv).domains[0].vcpus[1].run_ns, 31u);
  EXPECT_EQ(source->reads, 2);
}

TEST_F(GuestSampleTest, NoVcpuThreadNoSourceRead) {
  auto source = std::make_shared<FakeSource>();
  GuestSampler sampler(tree_.Root());
  sampler.SetVcpuCounterSource(source);
  EXPECT_TRUE(sampler.Sample(nullptr).domains.empty());
  EXPECT_EQ(source->reads, 0);  // the walk of every task would be wasted
}

TEST_F(GuestSampleTest, FailingOrGoneSourceFallsBackToTheFiles) {
  WriteThread(101, 1'000, 2'000, 3);
  WriteThread(102, 3'000, 4'000, 5);
  auto source = std::make_shared<FakeSource>();
  source->error = "iterator gone";
  GuestSampler sampler(tree_.Root());
  sampler.SetVcpuCounterSource(source);
  const auto inv = Inventory();
  const GuestSample& failed = sampler.Sample(inv);
  EXPECT_EQ(failed.domains[0].vcpus[0].run_ns, 1'000u);
  EXPECT_EQ(failed.domains[0].vcpus[1].run_ns, 3'000u);
  EXPECT_EQ(failed.vcpus_from_source, 0u);
  EXPECT_EQ(source->reads, 1);
  // The source recovers.
  sampler.Reset();
  source->error.clear();
  source->rows = {{101, 100, 3, 10, 20, 3}};
  EXPECT_EQ(sampler.Sample(inv).domains[0].vcpus[0].run_ns, 10u);
  // The collector that owned it is gone: files again, nothing dangles.
  sampler.Reset();
  source.reset();
  const GuestSample& gone = sampler.Sample(inv);
  EXPECT_EQ(gone.domains[0].vcpus[0].run_ns, 1'000u);
  EXPECT_EQ(gone.vcpus_from_source, 0u);
}

// The real procfs, where the sampler keeps each file open across scrapes
// (KeptProcFiles): this test process stands in for QEMU and one of its
// threads, spinning, for a vCPU that may run on two CPUs (stat is read too).
// Each scrape reads the thread's current counters, and once the thread
// exited its counters are gone, not frozen at their last value.
TEST(GuestSamplerProcfs, KeptFilesReadCurrentCountersAndDropExitedThreads) {
  std::atomic<bool> stop{false};
  std::atomic<pid_t> tid{0};
  std::thread spinner([&] {
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    while (!stop) {
    }
  });
  while (tid == 0) std::this_thread::yield();
  auto inv = std::make_shared<GuestInventory>();
  GuestDomain& d = inv->domains.emplace_back();
  d.name = "self";
  d.qemu_pid = ::getpid();
  GuestVcpu& v = d.vcpus.emplace_back();
  v.tid = tid;
  v.affinity = CpuSet::FromList({0, 1});
  std::shared_ptr<const GuestInventory> inventory = inv;
  const std::string schedstat =
      "/proc/self/task/" + std::to_string(tid.load()) + "/schedstat";
  auto kernel_run_ns = [&] {
    std::ifstream in(schedstat);
    std::uint64_t run = 0;
    in >> run;
    return run;
  };

  auto open_files = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator{});
  };
  const auto files_before = open_files();
  GuestSampler sampler("/proc");
  const std::optional<std::uint64_t> first =
      sampler.Sample(inventory).domains[0].vcpus[0].run_ns;
  ASSERT_TRUE(first.has_value());
  // statm, schedstat and stat stay open for the next scrape.
  EXPECT_EQ(open_files(), files_before + 3);
  const std::uint64_t target = *first + 20'000'000;  // 20 ms more run time
  for (int i = 0; i < 500 && kernel_run_ns() < target; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::uint64_t before = kernel_run_ns();
  sampler.Reset();
  const GuestSample& second = sampler.Sample(inventory);
  const std::uint64_t after = kernel_run_ns();
  EXPECT_TRUE(second.domains[0].running);
  ASSERT_TRUE(second.domains[0].vcpus[0].run_ns.has_value());
  EXPECT_GE(*second.domains[0].vcpus[0].run_ns, before);
  EXPECT_LE(*second.domains[0].vcpus[0].run_ns, after);
  EXPECT_GE(second.domains[0].vcpus[0].cpu, 0);

  stop = true;
  spinner.join();
  ASSERT_TRUE(testing::WaitUntilThreadReleased(tid));
  sampler.Reset();
  EXPECT_FALSE(sampler.Sample(inventory).domains[0].vcpus[0].run_ns);
  EXPECT_EQ(open_files(), files_before + 1);  // the thread's are closed
}

TEST(VcpuCounterTableTest, FindsByTidInAnyInputOrder) {
  const VcpuCounterTable table(
      {{9, 1, 0, 90, 0, 0}, {3, 1, 0, 30, 0, 0}, {5, 1, 0, 50, 0, 0}});
  EXPECT_EQ(table.Size(), 3u);
  ASSERT_NE(table.Find(3), nullptr);
  EXPECT_EQ(table.Find(3)->run_ns, 30u);
  EXPECT_EQ(table.Find(9)->run_ns, 90u);
  EXPECT_EQ(table.Find(4), nullptr);
  EXPECT_EQ(table.Find(10), nullptr);
  EXPECT_EQ(VcpuCounterTable({}).Find(1), nullptr);
}

}  // namespace
}  // namespace hostiso
