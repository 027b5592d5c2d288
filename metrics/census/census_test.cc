#include "metrics/census/census.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "metrics/census/census_worker.h"
#include "metrics/collectors/census_collector.h"
#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

// A fake /proc with tasks: PID/comm, PID/task/TID/{stat,status}.
class FakeProc {
 public:
  struct Task {
    int pid = 0;
    int tid = 0;
    std::string comm;
    std::string cpus = "0-1";  // Cpus_allowed_list
    std::uint64_t ticks = 0;   // utime; stime stays 0
    std::uint64_t start = 1;
    int last_cpu = 0;
    bool kthread = false;
    int ppid = 1;
  };
  explicit FakeProc(const testing::TempTree& tree) : tree_(tree) {
    SetUptimeSeconds(1000);
  }
  void SetUptimeSeconds(double s) {
    tree_.Write("uptime", std::to_string(s) + " 10.0\n");
  }
  void Process(int pid, const std::string& comm) {
    tree_.Write(std::to_string(pid) + "/comm", comm + "\n");
  }
  void Put(const Task& t) {
    std::string dir =
        std::to_string(t.pid) + "/task/" + std::to_string(t.tid) + "/";
    std::uint64_t flags = t.kthread ? kPfKthread | 0x40 : 0x400000;
    tree_.Write(dir + "stat", std::to_string(t.tid) + " (" + t.comm + ") S " +
                                  std::to_string(t.ppid) + " 0 0 0 -1 " +
                                  std::to_string(flags) + " 0 0 0 0 " +
                                  std::to_string(t.ticks) + " 0 0 0 20 0 1 0 " +
                                  std::to_string(t.start) +
                                  " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 17 " +
                                  std::to_string(t.last_cpu) + " 0 0 0 0 0\n");
    tree_.Write(dir + "status", "Name:\t" + t.comm +
                                    "\nCpus_allowed:\t3\nCpus_allowed_list:\t" +
                                    t.cpus + "\nMems_allowed_list:\t0\n");
  }

 private:
  const testing::TempTree& tree_;
};

CpuRoles GuestRoles(std::initializer_list<int> guest,
                    std::initializer_list<int> all = {0, 1}) {
  GuestCpuSets sets;
  sets.source = GuestSetSource::kFlag;
  sets.legacy = CpuSet::FromList(guest);
  return CpuRoles(sets, CpuSet::FromList(all));
}

std::uint64_t Hz() {
  return static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
}

using Classes = std::map<int, std::string>;  // tid -> class
Classes ClassesOf(const CensusResult& r) {
  Classes c;
  for (const auto& t : r.examined) c[t.tid] = std::string(TaskClassName(t.cls));
  return c;
}
using Series = std::map<std::string, std::uint64_t>;  // "cpu/comm" -> ticks
Series SeriesOf(const CensusResult& r) {
  Series s;
  for (const auto& x : r.intrusion)
    s[std::to_string(x.cpu) + "/" + x.comm] = x.ticks;
  return s;
}
std::map<std::string, std::string> ViolationsOf(const CensusResult& r) {
  std::map<std::string, std::string> v;
  for (const auto& x : r.host_task_violations) v[x.subject] = x.cpus.ToString();
  return v;
}

class CensusTest : public ::testing::Test {
 protected:
  CensusTest() : proc_(tree_) {}
  std::unique_ptr<ThreadCensus> MakeCensus(std::size_t top = 10) {
    CensusOptions o;
    o.paths.procfs = tree_.Root();
    o.top_comms = top;
    o.affinity = AffinitySource::kStatusFile;
    o.keep_examined = true;
    return std::make_unique<ThreadCensus>(o, guests_);
  }
  // A small host: sshd on CPU 0, a busy process on CPU 1, a QEMU guest, a
  // per-CPU and an unbound kernel thread.
  void Populate() {
    proc_.Process(100, "sshd");
    proc_.Put({.pid = 100, .tid = 100, .comm = "sshd", .cpus = "0"});
    proc_.Process(200, "busy");
    proc_.Put(
        {.pid = 200, .tid = 200, .comm = "busy", .cpus = "1", .last_cpu = 1});
    proc_.Put({.pid = 200,
               .tid = 201,
               .comm = "busy-worker",
               .cpus = "0-1",
               .last_cpu = 0});
    proc_.Process(300, "qemu-system-x86");
    proc_.Put({.pid = 300, .tid = 300, .comm = "qemu-system-x86", .cpus = "0"});
    proc_.Put({.pid = 300,
               .tid = 301,
               .comm = "CPU 0/KVM",
               .cpus = "1",
               .last_cpu = 1});
    proc_.Put(
        {.pid = 300, .tid = 302, .comm = "IO mon_iothread", .cpus = "0-1"});
    proc_.Process(20, "ksoftirqd/1");
    proc_.Put({.pid = 20,
               .tid = 20,
               .comm = "ksoftirqd/1",
               .cpus = "1",
               .last_cpu = 1,
               .kthread = true,
               .ppid = 2});
    proc_.Process(30, "kworker/u4:1-events_unbound");
    proc_.Put({.pid = 30,
               .tid = 30,
               .comm = "kworker/u4:1-events_unbound",
               .cpus = "0-1",
               .last_cpu = 1,
               .kthread = true,
               .ppid = 2});
  }

  testing::TempTree tree_;
  FakeProc proc_;
  std::shared_ptr<GuestInventoryHolder> guests_ =
      std::make_shared<GuestInventoryHolder>();
};

TEST_F(CensusTest, ClassifiesAndReadsStatOnlyWhereNeeded) {
  Populate();
  auto census = MakeCensus();
  CensusResult r = census->Run(GuestRoles({1})).value();
  EXPECT_EQ(r.tasks, 8u);
  EXPECT_EQ(r.guest_source, "procfs");
  // sshd (CPU 0) and the QEMU main thread (CPU 0) are never examined.
  EXPECT_EQ(ClassesOf(r), (Classes{{200, "host"},
                                   {201, "host"},
                                   {301, "vcpu"},
                                   {302, "qemu_other"},
                                   {20, "percpu_kernel"},
                                   {30, "host"}}));
  EXPECT_EQ(r.stat_reads, 6u);
  // busy (2 threads) and the unbound kworker.
  EXPECT_EQ(r.host_tasks_on_guest_cpus, 3u);
  auto kworker = std::find_if(r.examined.begin(), r.examined.end(),
                              [](const CensusTask& t) { return t.tid == 30; });
  ASSERT_NE(kworker, r.examined.end());
  EXPECT_EQ(kworker->comm, "kworker");
  // The first census is a baseline: no intrusion yet, zero series only.
  EXPECT_EQ(SeriesOf(r), (Series{{"1/kernel", 0}, {"1/other", 0}}));
  EXPECT_TRUE(r.host_task_violations.empty());
}

TEST_F(CensusTest, InventoryClassifiesQemuWithoutReads) {
  Populate();
  // libvirt names process 300 (whatever it is called) and its vCPU 302.
  proc_.Process(300, "renamed");
  auto inv = std::make_shared<GuestInventory>();
  GuestDomain d;
  d.name = "instance-00000001";
  d.qemu_pid = 300;
  d.vcpus.push_back(GuestVcpu{0, 302, CpuSet::FromList({1}), 1});
  inv->domains.push_back(d);
  inv->source = "libvirt";
  guests_->Publish(inv);
  auto census = MakeCensus();
  CensusResult r = census->Run(GuestRoles({1})).value();

  EXPECT_EQ(r.guest_source, "libvirt");
  Classes c = ClassesOf(r);
  EXPECT_EQ(c[301], "qemu_other");
  EXPECT_EQ(c[302], "vcpu");
  EXPECT_EQ(r.stat_reads, 4u);  // 200, 201, 20, 30
}

TEST_F(CensusTest, SingleCpuAttributionIsExact) {
  Populate();
  auto census = MakeCensus();
  ASSERT_TRUE(census->Run(GuestRoles({1})).ok());
  proc_.Put({.pid = 200,
             .tid = 200,
             .comm = "busy",
             .cpus = "1",
             .ticks = 150,
             .last_cpu = 0});
  proc_.Put({.pid = 20,
             .tid = 20,
             .comm = "ksoftirqd/1",
             .cpus = "1",
             .ticks = 7,
             .last_cpu = 1,
             .kthread = true,
             .ppid = 2});
  // vCPU time is the guest's own: never intrusion.
  proc_.Put({.pid = 300,
             .tid = 301,
             .comm = "CPU 0/KVM",
             .cpus = "1",
             .ticks = 500,
             .last_cpu = 1});
  CensusResult r = census->Run(GuestRoles({1})).value();

  // Affinity {1}: all 150 ticks went to CPU 1, whatever field 39 says.
  EXPECT_EQ(SeriesOf(r),
            (Series{{"1/busy", 150}, {"1/kernel", 7}, {"1/other", 0}}));
  EXPECT_EQ(ViolationsOf(r),
            (std::map<std::string, std::string>{{"comm busy", "1"}}));
  // No new time: counters hold, no violation.
  CensusResult again = census->Run(GuestRoles({1})).value();
  EXPECT_EQ(SeriesOf(again), SeriesOf(r));
  EXPECT_TRUE(again.host_task_violations.empty());
}

TEST_F(CensusTest, MultiCpuAttributionUsesLastSeenCpu) {
  proc_.Process(500, "ovs-vswitchd");
  proc_.Put({.pid = 500,
             .tid = 500,
             .comm = "ovs-vswitchd",
             .cpus = "0-3",
             .last_cpu = 0});
  proc_.Put({.pid = 500,
             .tid = 501,
             .comm = "handler1",
             .cpus = "0-3",
             .last_cpu = 0});
  auto census = MakeCensus();
  CpuRoles roles = GuestRoles({1, 2, 3}, {0, 1, 2, 3});
  ASSERT_TRUE(census->Run(roles).ok());
  // 500 was last seen on guest CPU 2: its 40 ticks are estimated there.
  // 501 was last seen on host CPU 0: its 60 ticks count nowhere.
  proc_.Put({.pid = 500,
             .tid = 500,
             .comm = "ovs-vswitchd",
             .cpus = "0-3",
             .ticks = 40,
             .last_cpu = 2});
  proc_.Put({.pid = 500,
             .tid = 501,
             .comm = "handler1",
             .cpus = "0-3",
             .ticks = 60,
             .last_cpu = 0});
  CensusResult r = census->Run(roles).value();
  Series s = SeriesOf(r);
  EXPECT_EQ(s["2/ovs-vswitchd"], 40u);
  EXPECT_EQ(s.count("0/ovs-vswitchd"), 0u);
  EXPECT_EQ(s["1/other"] + s["2/other"] + s["3/other"], 0u);
  EXPECT_EQ(ViolationsOf(r),
            (std::map<std::string, std::string>{{"comm ovs-vswitchd", "2"}}));
  EXPECT_EQ(r.host_tasks_on_guest_cpus, 2u);
}

TEST_F(CensusTest, NewThreadsCountOnlyWhenBornSinceThePreviousCensus) {
  proc_.Process(200, "busy");
  proc_.Put({.pid = 200, .tid = 200, .comm = "busy", .cpus = "1", .ticks = 10});
  auto census = MakeCensus();
  proc_.SetUptimeSeconds(100);
  ASSERT_TRUE(census->Run(GuestRoles({1})).ok());
  proc_.SetUptimeSeconds(115);
  // Born 5 s after the previous census: all its time is new.
  proc_.Put({.pid = 200,
             .tid = 202,
             .comm = "busy",
             .cpus = "1",
             .ticks = 30,
             .start = 105 * Hz()});
  // Older, but its affinity just moved onto CPU 1: a baseline.
  proc_.Put({.pid = 200,
             .tid = 203,
             .comm = "busy",
             .cpus = "1",
             .ticks = 1000,
             .start = 50 * Hz()});
  // A TID reused by a new thread (different start time) is a new thread.
  proc_.Put({.pid = 200,
             .tid = 200,
             .comm = "busy",
             .cpus = "1",
             .ticks = 4,
             .start = 110 * Hz()});
  CensusResult r = census->Run(GuestRoles({1})).value();
  EXPECT_EQ(SeriesOf(r)["1/busy"], 34u);
}

TEST_F(CensusTest, IdleProcessesAreNotRead) {
  Populate();
  std::map<pid_t, std::uint64_t> clocks;  // process CPU clocks, ns
  CensusOptions o;
  o.paths.procfs = tree_.Root();
  o.affinity = AffinitySource::kStatusFile;
  o.keep_examined = true;
  o.process_runtime = [&clocks](pid_t pid) -> std::optional<std::uint64_t> {
    return clocks[pid];
  };
  ThreadCensus census(o, guests_);
  CensusResult first = census.Run(GuestRoles({1})).value();
  EXPECT_EQ(first.stat_reads, 6u);
  EXPECT_EQ(first.idle_processes_skipped, 0u);
  // Nothing ran: no stat read at all, same classes and exposure.
  CensusResult idle = census.Run(GuestRoles({1})).value();
  EXPECT_EQ(idle.stat_reads, 0u);
  EXPECT_EQ(idle.idle_processes_skipped, 4u);  // busy, qemu, ksoftirqd, kworker
  EXPECT_EQ(ClassesOf(idle), ClassesOf(first));
  EXPECT_EQ(idle.host_tasks_on_guest_cpus, first.host_tasks_on_guest_cpus);
  // busy ran (its clock moved): only its two threads are read.
  proc_.Put({.pid = 200,
             .tid = 200,
             .comm = "busy",
             .cpus = "1",
             .ticks = 25,
             .last_cpu = 1});
  clocks[200] = 250000000;
  CensusResult ran = census.Run(GuestRoles({1})).value();
  EXPECT_EQ(ran.stat_reads, 2u);
  EXPECT_EQ(SeriesOf(ran)["1/busy"], 25u);
  // A thread whose affinity changed is read even if its process' clock did not
  // move.
  proc_.Put({.pid = 30,
             .tid = 30,
             .comm = "kworker/u4:1-events_unbound",
             .cpus = "1",
             .last_cpu = 1,
             .kthread = true,
             .ppid = 2});
  CensusResult moved = census.Run(GuestRoles({1})).value();
  EXPECT_EQ(moved.stat_reads, 1u);
  EXPECT_EQ(ClassesOf(moved)[30], "percpu_kernel");
}

TEST_F(CensusTest, VanishedTasksAreNormal) {
  Populate();
  // A process whose task directory is gone, a thread with no files left, a
  // thread whose stat vanished after its status was read.
  tree_.Write("400/comm", "gone\n");
  tree_.MakeDir("401/task/401");
  proc_.Process(402, "halfgone");
  proc_.Put({.pid = 402, .tid = 402, .comm = "halfgone", .cpus = "1"});
  tree_.Remove("402/task/402/stat");
  tree_.MakeDir("not-a-pid");
  auto census = MakeCensus();
  CensusResult r = census->Run(GuestRoles({1})).value();
  EXPECT_EQ(r.tasks,
            9u);  // the 8 of Populate and 402 (its affinity was readable)
  EXPECT_EQ(r.vanished, 3u);
  EXPECT_EQ(r.malformed, 0u);
}

TEST_F(CensusTest, MalformedStatIsSkippedAndOddCommsParse) {
  proc_.Process(600, "(sd-pam) )");
  proc_.Put({.pid = 600, .tid = 600, .comm = "(sd-pam) )", .cpus = "1"});
  proc_.Process(601, "broken");
  proc_.Put({.pid = 601, .tid = 601, .comm = "broken", .cpus = "1"});
  tree_.Write("601/task/601/stat", "601 (broken) S 1 2\n");
  auto census = MakeCensus();
  ASSERT_TRUE(census->Run(GuestRoles({1})).ok());
  proc_.Put(
      {.pid = 600, .tid = 600, .comm = "(sd-pam) )", .cpus = "1", .ticks = 9});
  CensusResult r = census->Run(GuestRoles({1})).value();

  EXPECT_EQ(r.malformed, 1u);
  EXPECT_EQ(SeriesOf(r)["1/(sd-pam) )"], 9u);
  EXPECT_EQ(ViolationsOf(r).count("comm (sd-pam) )"), 1u);
}

TEST_F(CensusTest, TopNFoldsTheRestIntoOther) {
  for (int i = 0; i < 4; ++i) {
    int pid = 700 + i;
    proc_.Process(pid, "p" + std::to_string(i));
    proc_.Put(
        {.pid = pid, .tid = pid, .comm = "p" + std::to_string(i), .cpus = "1"});
  }
  auto census = MakeCensus(/*top=*/2);
  ASSERT_TRUE(census->Run(GuestRoles({1})).ok());
  for (int i = 0; i < 4; ++i) {
    int pid = 700 + i;
    proc_.Put({.pid = pid,
               .tid = pid,
               .comm = "p" + std::to_string(i),
               .cpus = "1",
               .ticks = static_cast<std::uint64_t>(10 * (i + 1))});
  }
  CensusResult r = census->Run(GuestRoles({1})).value();
  EXPECT_EQ(
      SeriesOf(r),
      (Series{{"1/kernel", 0}, {"1/other", 30}, {"1/p2", 30}, {"1/p3", 40}}));
  // Violations name every intruder, folded or not.
  EXPECT_EQ(ViolationsOf(r).size(), 4u);
}

TEST_F(CensusTest, NoGuestSetMeansFloorOnly) {
  Populate();
  auto census = MakeCensus();
  GuestCpuSets none;
  CensusResult r =
      census->Run(CpuRoles(none, CpuSet::FromList({0, 1}))).value();

  EXPECT_FALSE(r.isolation_configured);
  EXPECT_EQ(r.tasks, 8u);
  EXPECT_EQ(r.stat_reads, 0u);
  EXPECT_EQ(r.host_tasks_on_guest_cpus, 0u);
  EXPECT_TRUE(r.intrusion.empty());
}

TEST_F(CensusTest, MissingProcfsIsAnError) {
  CensusOptions o;
  o.paths.procfs = tree_.Path("nope");
  ThreadCensus census(o, nullptr);
  auto r = census.Run(GuestRoles({1}));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("nope"), std::string::npos) << r.error();
}

TEST(CensusNamesTest, Helpers) {
  EXPECT_TRUE(detail::IsQemuProcessName("qemu-system-x86"));
  EXPECT_TRUE(detail::IsQemuProcessName("qemu-kvm"));
  EXPECT_FALSE(detail::IsQemuProcessName("qemu-img"));
  EXPECT_EQ(detail::KernelThreadLabel("kworker/u8:2-events_unbound"),
            "kworker");
  EXPECT_EQ(detail::KernelThreadLabel("irq/45-nvme0q0"), "irq");
  EXPECT_EQ(detail::KernelThreadLabel("rcu_preempt"), "rcu_preempt");
}

TEST(CensusLiveProcTest, SyscallAffinityOnOwnProc) {
  // This process's /proc: sched_getaffinity is used, and this thread is seen.
  CensusOptions o;
  o.paths = HostPaths::Detect("/proc", "/sys", "/");
  ThreadCensus census(o, nullptr);
  EXPECT_TRUE(census.UsesSyscallAffinity());
  auto r = census.Run(GuestRoles({0}, {0}));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_GT(r->tasks, 1u);
}

// The worker and collector together, on the fixture tree.
TEST_F(CensusTest, CollectorServesLastCensusAndReportsViolations) {
  Populate();
  tree_.Write("sys/devices/system/cpu/present", "0-1\n");
  tree_.Write("sys/devices/system/cpu/online", "0-1\n");
  tree_.Write("cmdline", "BOOT_IMAGE=/vmlinuz\n");
  IsolationOptions io;
  io.paths.procfs = tree_.Root();
  io.paths.sysfs = tree_.Path("sys");
  io.nova_config = tree_.Path("nova.conf");
  io.guest_cpus = CpuSet::FromList({1});
  auto isolation = std::make_shared<IsolationSource>(io);
  isolation->Reload();
  auto violations = std::make_shared<ViolationRegistry>();
  auto worker = std::make_shared<CensusWorker>(
      MakeCensus(), isolation, violations, std::chrono::seconds(15));
  CensusCollector collector(worker);
  IsolationSnapshot snap;
  GuestSampler sampler("/nonexistent");
  ScrapeContext ctx{snap, *violations, sampler};
  std::vector<prometheus::MetricFamily> out;
  EXPECT_TRUE(collector.Collect(ctx, out));
  EXPECT_TRUE(out.empty());  // no census yet
  worker->RunOnce();
  proc_.Put(
      {.pid = 200, .tid = 200, .comm = "busy", .cpus = "1", .ticks = 100});
  worker->RunOnce();
  ASSERT_TRUE(collector.Collect(ctx, out));
  std::map<std::string, double> values;
  for (const auto& f : out) {
    for (const auto& m : f.metric) {
      std::string key = f.name;
      for (const auto& l : m.label) key += "," + l.name + "=" + l.value;
      values[key] = f.type == prometheus::MetricType::Counter ? m.counter.value
                                                              : m.gauge.value;
    }
  }
  EXPECT_EQ(values["hostiso_census_tasks"], 8);
  EXPECT_EQ(values["hostiso_host_tasks_on_guest_cpus"], 3);
  EXPECT_DOUBLE_EQ(values["hostiso_intrusion_seconds_total,cpu=1,comm=busy"],
                   100.0 / static_cast<double>(Hz()));
  EXPECT_EQ(values.count("hostiso_census_age_seconds"), 1u);
  EXPECT_EQ(values.count("hostiso_census_duration_seconds"), 1u);
  auto v = violations->Current(ViolationKind::kHostTaskOnGuestCpu);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].subject, "comm busy");
  EXPECT_EQ(v[0].cpus.ToString(), "1");
}

TEST(CensusWorkerTest, RunsAtIdlePriority) {
  auto isolation = std::make_shared<IsolationSource>(IsolationOptions{});
  isolation->Reload();
  auto violations = std::make_shared<ViolationRegistry>();
  CensusWorker worker(std::make_unique<ThreadCensus>(CensusOptions{}, nullptr),
                      isolation, violations, std::chrono::seconds(3600));
  worker.Start();
  for (int i = 0; i < 500 && !worker.Last().value; ++i) ::usleep(10000);
  ASSERT_TRUE(worker.Last().value);
  // Root (CI) gets SCHED_IDLE; unprivileged users may only get nice 19 on old
  // kernels.
  EXPECT_TRUE(worker.SchedulingPolicy() == "SCHED_IDLE" ||
              worker.SchedulingPolicy() == "nice 19")
      << worker.SchedulingPolicy();
  worker.Stop(std::chrono::seconds(2));
}

TEST(TopIntrudersTest, MostTimePerCpuKernelThreadsLeftOut) {
  using D = detail::IntrusionLedger::Delta;
  auto top = detail::TopIntruders(
      {D{"ovs", 3, 5, false}, D{"sshd", 3, 2, false}, D{"ovs", 3, 1, false},
       D{"kernel", 4, 90, true}, D{"b", 5, 4, false}, D{"a", 5, 4, false}});
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].cpu, 3);
  EXPECT_EQ(top[0].comm, "ovs");
  EXPECT_EQ(top[0].ticks, 6u);
  EXPECT_EQ(top[1].cpu, 5);
  EXPECT_EQ(top[1].comm, "a");  // a tie: byte order
}

}  // namespace
}  // namespace hostiso
