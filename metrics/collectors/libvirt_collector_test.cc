#include "metrics/collectors/libvirt_collector.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <cmath>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using namespace std::chrono_literals;

// "SUBJECT [CPUS]" of every current violation of `kind`, for exact asserts.
std::vector<std::string> Subjects(const ViolationRegistry& reg,
                                  ViolationKind kind) {
  std::vector<std::string> out;
  for (const auto& v : reg.Current(kind)) {
    out.push_back(v.subject + " [" + v.cpus.ToString() + "]");
  }
  return out;
}

CpuSet L(const char* list) { return *ParseCpuList(list); }

// Value of the series of `name` whose labels include all of `labels`; NaN when
// absent.
double Value(
    const std::vector<prometheus::MetricFamily>& fams, const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  for (const auto& f : fams) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      bool all = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label)
          found = found || (l.name == k && l.value == v);
        all = all && found;
      }
      if (all)
        return f.type == prometheus::MetricType::Counter ? m.counter.value
                                                         : m.gauge.value;
    }
  }
  return std::nan("");
}

std::size_t Count(const std::vector<prometheus::MetricFamily>& fams,
                  const std::string& name) {
  for (const auto& f : fams)
    if (f.name == name) return f.metric.size();
  return 0;
}

class LibvirtCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("meminfo", "MemTotal:       8388608 kB\nMemFree: 1 kB\n");
    tree_.Write("100/statm", "1000 250 10 1 0 100 0\n");
    WriteThread(101, 2'000'000'000, 500'000'000, 3);
    WriteThread(102, 1'000'000'000, 0, 2);
    status_.up = true;
    SetInventory(MakeDomain());
    Configure(true);
  }

  static std::string Stat(pid_t tid, int cpu) {
    std::string s = std::to_string(tid) + " (CPU 0/KVM) S";
    for (int f = 4; f <= 38; ++f) s += " 0";
    s += " " + std::to_string(cpu) + " 0 0 0 0 0\n";
    return s;
  }
  void WriteThread(pid_t tid, std::uint64_t run, std::uint64_t delay, int cpu) {
    std::string dir = "100/task/" + std::to_string(tid);
    tree_.Write(dir + "/schedstat",
                std::to_string(run) + " " + std::to_string(delay) + " 10\n");
    tree_.Write(dir + "/stat", Stat(tid, cpu));
  }

  static GuestDomain MakeDomain() {
    GuestDomain d;
    d.name = "instance-00000001";
    d.uuid = "u-1";
    d.instance_name = "web";
    d.flavor = "m1";
    d.project_id = "p1";
    d.project_name = "proj";
    d.cpu_policy = "shared";
    d.qemu_pid = 100;
    d.vcpu_count = 2;
    d.memory_bytes = 1ULL << 30;
    d.vcpus = {GuestVcpu{0, 101, L("1"), 1}, GuestVcpu{1, 102, L("0-3"), 0}};
    d.emulator_affinity = L("0");
    return d;
  }

  void SetInventory(
      GuestDomain d,
      std::map<std::string, std::map<int, VcpuBulkStats>> bulk = {},
      std::chrono::steady_clock::time_point taken =
          std::chrono::steady_clock::now()) {
    auto inv = std::make_shared<GuestInventory>();
    inv->domains.push_back(std::move(d));
    auto snap = std::make_shared<LibvirtSnapshot>();
    snap->inventory = inv;
    snap->bulk = std::move(bulk);
    snap->taken = taken;
    status_.last_good = snap;
  }

  void Configure(bool guest_cpus) {
    iso_ = IsolationSnapshot{};
    if (guest_cpus) {
      iso_.guest_sets.source = GuestSetSource::kFlag;
      iso_.guest_sets.legacy = L("1-3");
    }
    iso_.roles = CpuRoles(iso_.guest_sets, L("0-3"));
  }

  std::vector<prometheus::MetricFamily> Scrape(bool* ok = nullptr) {
    std::vector<prometheus::MetricFamily> out;
    GuestSampler sampler(tree_.Root());
    ScrapeContext ctx{iso_, violations_, sampler};
    bool r = collector_.Collect(ctx, out).ok();
    if (ok != nullptr) *ok = r;
    return out;
  }

  testing::TempTree tree_;
  LibvirtStatus status_;
  IsolationSnapshot iso_;
  ViolationRegistry violations_;
  LibvirtCollector collector_{[this] { return status_; }, 30};
};

TEST_F(LibvirtCollectorTest, DomainSeriesFromSnapshotAndProc) {
  bool ok = false;
  auto m = Scrape(&ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Value(m, "hostiso_libvirt_up"), 1);
  EXPECT_GE(Value(m, "hostiso_libvirt_snapshot_age_seconds"), 0);
  EXPECT_EQ(Value(m, "hostiso_domain_info",
                  {{"domain", "instance-00000001"},
                   {"uuid", "u-1"},
                   {"instance_name", "web"},
                   {"project_id", "p1"},
                   {"project_name", "proj"},
                   {"flavor", "m1"},
                   {"cpu_policy", "shared"}}),
            1);
  EXPECT_EQ(Value(m, "hostiso_domain_vcpus"), 2);
  EXPECT_EQ(Value(m, "hostiso_domain_memory_bytes"), 1ULL << 30);
  EXPECT_EQ(Value(m, "hostiso_domain_rss_bytes"),
            250.0 * static_cast<double>(::sysconf(_SC_PAGESIZE)));
  EXPECT_DOUBLE_EQ(Value(m, "hostiso_vcpu_time_seconds_total", {{"vcpu", "0"}}),
                   2.0);
  EXPECT_DOUBLE_EQ(
      Value(m, "hostiso_vcpu_delay_seconds_total", {{"vcpu", "0"}}), 0.5);
  // Pinned to CPU 1: it can only be there (no stat read). Floating: from
  // its /proc stat, not the snapshot.
  EXPECT_EQ(Value(m, "hostiso_vcpu_cpu", {{"vcpu", "0"}}), 1);
  EXPECT_EQ(Value(m, "hostiso_vcpu_cpu", {{"vcpu", "1"}}), 2);
  EXPECT_EQ(Value(m, "hostiso_vcpu_affinity_cpus", {{"vcpu", "0"}}), 1);
  EXPECT_EQ(Value(m, "hostiso_vcpu_affinity_cpus", {{"vcpu", "1"}}), 4);
  // Per-CPU delay series exist for every CPU from the first scrape, at 0.
  EXPECT_EQ(Count(m, "hostiso_cpu_vcpu_delay_seconds_total"), 4u);
  EXPECT_EQ(Value(m, "hostiso_cpu_vcpu_delay_seconds_total", {{"cpu", "3"}}),
            0);
  // Legacy guest CPUs 1-3 x default ratio 4.
  EXPECT_EQ(Value(m, "hostiso_vcpu_capacity", {{"policy", "shared"}}), 12);
  EXPECT_EQ(Value(m, "hostiso_vcpu_capacity", {{"policy", "dedicated"}}), 0);
  EXPECT_EQ(Value(m, "hostiso_vcpus_allocated", {{"policy", "shared"}}), 2);
  EXPECT_EQ(Value(m, "hostiso_allocation_ratio", {{"resource", "cpu"}}), 4);
  EXPECT_EQ(Value(m, "hostiso_allocation_ratio", {{"resource", "ram"}}), 1);
  // Guest memory against MemTotal is the memory collector's.
  EXPECT_EQ(Count(m, "hostiso_memory_guest_capacity_bytes"), 0u);

  // The exposition is valid text.
  prometheus::TextSerializer ser;
  std::string text = ser.Serialize(m);
  EXPECT_NE(text.find("hostiso_vcpu_delay_seconds_total{domain=\"instance-"
                      "00000001\",vcpu=\"0\"} 0.5"),
            std::string::npos)
      << text;
}

TEST_F(LibvirtCollectorTest, CountersClampAndAttributeDelayToCpu) {
  Scrape();
  // vCPU 0 ran 3 s and waited 1.25 s (+0.75 s since the first scrape, on
  // CPU 1, where it is pinned).
  auto expect_counters = [this](const auto& m) {
    EXPECT_DOUBLE_EQ(
        Value(m, "hostiso_vcpu_time_seconds_total", {{"vcpu", "0"}}), 3.0);
    EXPECT_DOUBLE_EQ(
        Value(m, "hostiso_vcpu_delay_seconds_total", {{"vcpu", "0"}}), 1.25);
    EXPECT_DOUBLE_EQ(
        Value(m, "hostiso_cpu_vcpu_delay_seconds_total", {{"cpu", "1"}}), 0.75);
  };
  WriteThread(101, 3'000'000'000, 1'250'000'000, 2);
  auto m = Scrape();
  expect_counters(m);
  EXPECT_EQ(Value(m, "hostiso_vcpu_cpu", {{"vcpu", "0"}}), 1);
  // The same thread reporting less (never happens, but a torn read must not
  // make the counter step back): the counters stay where they were.
  WriteThread(101, 2'500'000'000, 1'000'000'000, 2);
  expect_counters(Scrape());
}

// The worker publishes a new inventory object at every refresh: the counters
// follow each (domain, vCPU index) into it, whatever its position, and a vCPU
// absent from one scrape starts afresh.
TEST_F(LibvirtCollectorTest, CountersFollowVcpusIntoNewInventory) {
  Scrape();
  WriteThread(101, 1'500'000'000, 400'000'000, 2);  // less than before
  GuestDomain other = MakeDomain();
  other.name = "instance-00000000";  // sorts first: shifts positions
  other.qemu_pid = 0;
  for (auto& v : other.vcpus) v.tid = 0;
  GuestDomain d = MakeDomain();
  std::swap(d.vcpus[0], d.vcpus[1]);
  auto inv = std::make_shared<GuestInventory>();
  inv->domains = {other, d};
  auto snap = std::make_shared<LibvirtSnapshot>(*status_.last_good);
  snap->inventory = inv;
  status_.last_good = snap;
  auto m = Scrape();
  const std::vector<std::pair<std::string, std::string>> vcpu0 = {
      {"domain", "instance-00000001"}, {"vcpu", "0"}};
  EXPECT_DOUBLE_EQ(Value(m, "hostiso_vcpu_time_seconds_total", vcpu0), 2.0);
  EXPECT_DOUBLE_EQ(Value(m, "hostiso_vcpu_delay_seconds_total", vcpu0), 0.5);
  // Without counters for one scrape, the next reading is taken as new.
  GuestDomain gone = MakeDomain();
  gone.qemu_pid = 0;
  for (auto& v : gone.vcpus) v.tid = 0;
  SetInventory(gone);
  m = Scrape();
  EXPECT_TRUE(std::isnan(Value(m, "hostiso_vcpu_time_seconds_total", vcpu0)));
  SetInventory(MakeDomain());
  m = Scrape();
  EXPECT_DOUBLE_EQ(Value(m, "hostiso_vcpu_time_seconds_total", vcpu0), 1.5);
}

TEST_F(LibvirtCollectorTest, NewThreadResetsCounters) {
  Scrape();
  WriteThread(201, 100'000'000, 10'000'000, 1);
  GuestDomain d = MakeDomain();
  d.vcpus[0].tid = 201;  // the guest was restarted
  SetInventory(d);
  auto m = Scrape();
  EXPECT_DOUBLE_EQ(Value(m, "hostiso_vcpu_time_seconds_total", {{"vcpu", "0"}}),
                   0.1);
  EXPECT_DOUBLE_EQ(
      Value(m, "hostiso_cpu_vcpu_delay_seconds_total", {{"cpu", "1"}}), 0);
}

TEST_F(LibvirtCollectorTest, BulkStatsWhenThreadUnknown) {
  GuestDomain d = MakeDomain();
  d.qemu_pid = 0;
  for (auto& v : d.vcpus) v.tid = 0;
  std::map<std::string, std::map<int, VcpuBulkStats>> bulk;
  bulk["instance-00000001"][0] =
      VcpuBulkStats{7'000'000'000ULL, 2'000'000'000ULL};
  bulk["instance-00000001"][1] =
      VcpuBulkStats{1'000'000'000ULL, std::nullopt};  // no delay
  SetInventory(d, bulk);
  auto m = Scrape();
  EXPECT_DOUBLE_EQ(Value(m, "hostiso_vcpu_time_seconds_total", {{"vcpu", "0"}}),
                   7.0);
  EXPECT_DOUBLE_EQ(
      Value(m, "hostiso_vcpu_delay_seconds_total", {{"vcpu", "0"}}), 2.0);
  EXPECT_DOUBLE_EQ(Value(m, "hostiso_vcpu_time_seconds_total", {{"vcpu", "1"}}),
                   1.0);
  EXPECT_TRUE(std::isnan(
      Value(m, "hostiso_vcpu_delay_seconds_total", {{"vcpu", "1"}})));
  EXPECT_EQ(Value(m, "hostiso_vcpu_cpu", {{"vcpu", "0"}}),
            1);  // snapshot's last CPU
  EXPECT_TRUE(std::isnan(Value(m, "hostiso_domain_rss_bytes")));
}

TEST_F(LibvirtCollectorTest, GoneQemuDropsDomainSeries) {
  tree_.Remove("100/statm");
  auto m = Scrape();
  EXPECT_EQ(Count(m, "hostiso_domain_info"), 0u);
  EXPECT_EQ(Count(m, "hostiso_vcpu_time_seconds_total"), 0u);
  EXPECT_EQ(Value(m, "hostiso_vcpus_allocated", {{"policy", "shared"}}), 0);
  EXPECT_TRUE(violations_.Current(ViolationKind::kVcpuOnHostCpu).empty());
  EXPECT_TRUE(violations_.Current(ViolationKind::kEmulatorOnHostCpu).empty());
}

TEST_F(LibvirtCollectorTest, Violations) {
  Scrape();
  auto subjects = [&](ViolationKind k) { return Subjects(violations_, k); };
  using S = std::vector<std::string>;
  EXPECT_EQ(subjects(ViolationKind::kVcpuOnHostCpu),
            (S{"instance-00000001 vcpu 1 [0]"}));
  EXPECT_EQ(subjects(ViolationKind::kEmulatorOnHostCpu),
            (S{"instance-00000001 emulator [0]"}));
  EXPECT_TRUE(subjects(ViolationKind::kCpuOvercommit).empty());

  // libvirt down: the detectors do not run, the subjects are kept for the
  // kind's max age...
  status_.up = false;
  status_.error = "connection to libvirt closed";
  bool ok = true;
  auto m = Scrape(&ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(Value(m, "hostiso_libvirt_up"), 0);
  violations_.ExpireStale();
  EXPECT_EQ(subjects(ViolationKind::kVcpuOnHostCpu).size(), 1u);
  // ...and then expire: never reported on stale data.
  violations_.ExpireStale(std::chrono::steady_clock::now() + 61s);
  EXPECT_TRUE(subjects(ViolationKind::kVcpuOnHostCpu).empty());
  EXPECT_TRUE(subjects(ViolationKind::kEmulatorOnHostCpu).empty());
}

TEST_F(LibvirtCollectorTest, NoViolationsWithoutGuestCpuSet) {
  Configure(false);
  GuestDomain d = MakeDomain();
  d.memory_bytes = 64ULL << 30;  // would overcommit RAM on a configured host
  SetInventory(d);
  auto m = Scrape();
  EXPECT_TRUE(violations_.Current(ViolationKind::kVcpuOnHostCpu).empty());
  EXPECT_EQ(Value(m, "hostiso_vcpu_capacity", {{"policy", "shared"}}),
            16);  // 4 CPUs x 4
  Configure(true);
  Scrape();
  EXPECT_EQ(violations_.Current(ViolationKind::kVcpuOnHostCpu).size(), 1u);
}

TEST_F(LibvirtCollectorTest, BeforeFirstSnapshot) {
  status_ = LibvirtStatus{};
  status_.error = "connecting to qemu:///system: no socket";
  bool ok = true;
  auto m = Scrape(&ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(Value(m, "hostiso_libvirt_up"), 0);
  EXPECT_EQ(Count(m, "hostiso_libvirt_snapshot_age_seconds"), 0u);
  EXPECT_EQ(Count(m, "hostiso_domain_info"), 0u);
  EXPECT_EQ(Count(m, "hostiso_vcpus_allocated"), 0u);
  EXPECT_EQ(Count(m, "hostiso_vcpu_capacity"), 2u);
}

}  // namespace
}  // namespace hostiso

namespace hostiso {
namespace {

// The worker on libvirt's test driver feeding the collector: the whole path
// but /proc (the test driver has no QEMU processes).
TEST(LibvirtCollectorOnTestDriver, MixedNodeViolations) {
  LibvirtOptions o;
  o.uri = std::string("test://") + HOSTISO_LIBVIRT_FIXTURES + "/node_mixed.xml";
  o.run_dir = "";
  o.procfs = "/nonexistent-procfs";
  auto holder = std::make_shared<GuestInventoryHolder>();
  auto source = std::make_shared<LibvirtSource>(o, holder);
  source->Start();
  ASSERT_TRUE(source->WaitForAttempts(0, std::chrono::seconds(10)));
  LibvirtCollector collector(source, 30);

  IsolationSnapshot iso;
  iso.guest_sets.source = GuestSetSource::kNova;
  iso.guest_sets.shared = L("2-7");
  iso.guest_sets.dedicated = L("8-15");
  iso.roles = CpuRoles(iso.guest_sets, L("0-15"));
  iso.nova = NovaConfig{};
  ViolationRegistry reg;
  std::vector<prometheus::MetricFamily> m;
  GuestSampler sampler(o.procfs);
  ScrapeContext ctx{iso, reg, sampler};
  ASSERT_TRUE(collector.Collect(ctx, m));
  source->Stop();

  auto subjects = [&](ViolationKind k) { return Subjects(reg, k); };
  using S = std::vector<std::string>;
  EXPECT_EQ(subjects(ViolationKind::kVcpuOnHostCpu),
            (S{"bad-pin vcpu 1 [0]", "plain-floating vcpu 0 [0-1]",
               "plain-floating vcpu 1 [0-1]"}));
  EXPECT_EQ(subjects(ViolationKind::kEmulatorOnHostCpu),
            (S{"bad-pin emulator [1]", "plain-floating emulator [0-1]"}));
  // CPU 9 is pinned by two guests; plain-floating may run on all of 8-15.
  EXPECT_EQ(subjects(ViolationKind::kDedicatedCpuShared),
            (S{"cpu 10 [10]", "cpu 11 [11]", "cpu 12 [12]", "cpu 13 [13]",
               "cpu 14 [14]", "cpu 15 [15]", "cpu 8 [8]", "cpu 9 [9]"}));
  // Dedicated: instance-00000001 (2) + instance-00000003 (1) + bad-pin (2,
  // both pinned 1:1) = 5 <= 8; shared: 4 + 2 = 6 <= 6 CPUs x 4.
  EXPECT_EQ(Value(m, "hostiso_vcpus_allocated", {{"policy", "dedicated"}}), 5);
  EXPECT_EQ(Value(m, "hostiso_vcpus_allocated", {{"policy", "shared"}}), 6);
  EXPECT_EQ(Value(m, "hostiso_vcpu_capacity", {{"policy", "shared"}}), 24);
  EXPECT_EQ(Value(m, "hostiso_vcpu_capacity", {{"policy", "dedicated"}}), 8);
  EXPECT_TRUE(subjects(ViolationKind::kCpuOvercommit).empty());
  EXPECT_EQ(Value(m, "hostiso_domain_info",
                  {{"domain", "instance-00000001"},
                   {"instance_name", "db-primary"},
                   {"flavor", "c2.pinned"},
                   {"cpu_policy", "dedicated"}}),
            1);
  EXPECT_EQ(Value(m, "hostiso_vcpu_affinity_cpus",
                  {{"domain", "plain-floating"}, {"vcpu", "0"}}),
            16);
  EXPECT_EQ(holder->Current()->domains.size(), 5u);
}

}  // namespace
}  // namespace hostiso
