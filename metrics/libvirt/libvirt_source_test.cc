#include "metrics/libvirt/libvirt_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

using namespace std::chrono_literals;

const std::string kMixed =
    std::string("test://") + HOSTISO_LIBVIRT_FIXTURES + "/node_mixed.xml";

class Conn {
 public:
  explicit Conn(const std::string& uri) {
    detail::InitLibvirtOnce();
    conn_ = virConnectOpenReadOnly(uri.c_str());
  }
  ~Conn() {
    if (conn_ != nullptr) virConnectClose(conn_);
  }
  virConnectPtr get() const { return conn_; }

 private:
  virConnectPtr conn_ = nullptr;
};

LibvirtOptions TestOptions(const std::string& uri) {
  LibvirtOptions o;
  o.uri = uri;
  o.run_dir = "";
  o.procfs = "/nonexistent-procfs";  // no QEMU: bulk-stats path
  return o;
}

const GuestDomain* Find(const GuestInventory& inv, const std::string& name) {
  for (const auto& d : inv.domains)
    if (d.name == name) return &d;
  return nullptr;
}

TEST(RefreshDomains, MixedNode) {
  Conn c(kMixed);
  ASSERT_NE(c.get(), nullptr) << detail::LastLibvirtError();
  auto snap = detail::RefreshDomains(c.get(), TestOptions(kMixed),
                                     std::chrono::steady_clock::now() + 10s);
  ASSERT_TRUE(snap) << snap.error();
  const GuestInventory& inv = *snap->inventory;
  EXPECT_EQ(inv.source, "libvirt");
  EXPECT_EQ(snap->domain_errors, 0);
  ASSERT_EQ(inv.domains.size(), 5u);  // the shut-off domain is not listed
  EXPECT_EQ(Find(inv, "instance-000000ff"), nullptr);

  const GuestDomain* d1 = Find(inv, "instance-00000001");
  ASSERT_NE(d1, nullptr);
  EXPECT_EQ(d1->uuid, "6a1e2b3c-0000-4000-8000-000000000001");
  EXPECT_EQ(d1->instance_name, "db-primary");
  EXPECT_EQ(d1->flavor, "c2.pinned");
  EXPECT_EQ(d1->project_id, "9f8e7d6c5b4a49382716a5b4c3d2e1f0");
  EXPECT_EQ(d1->project_name, "databases");
  EXPECT_EQ(d1->cpu_policy, "dedicated");
  EXPECT_TRUE(d1->hugepages_backed);
  EXPECT_EQ(d1->vcpu_count, 2);
  EXPECT_EQ(d1->memory_bytes, 2ULL << 30);
  EXPECT_EQ(d1->qemu_pid, 0);
  ASSERT_EQ(d1->vcpus.size(), 2u);
  // Pins above CPU 7: the maps are sized from virNodeGetInfo (16 CPUs), not
  // from virNodeGetCPUMap (always 8 in the test driver).
  EXPECT_EQ(d1->vcpus[0].affinity.ToString(), "9");
  EXPECT_EQ(d1->vcpus[1].affinity.ToString(), "10");
  EXPECT_EQ(d1->vcpus[0].tid, 0);
  EXPECT_GE(d1->vcpus[0].last_cpu, 0);
  EXPECT_EQ(d1->emulator_affinity.ToString(), "2-3");
  ASSERT_EQ(d1->iothread_affinity.size(), 1u);
  EXPECT_EQ(d1->iothread_affinity[0].ToString(), "2-3");

  const GuestDomain* d2 = Find(inv, "instance-00000002");
  ASSERT_NE(d2, nullptr);
  EXPECT_EQ(d2->cpu_policy, "shared");
  EXPECT_EQ(d2->memory_bytes, 4ULL << 30);
  ASSERT_EQ(d2->vcpus.size(), 4u);
  EXPECT_EQ(d2->vcpus[3].affinity.ToString(), "2-7");

  const GuestDomain* plain = Find(inv, "plain-floating");
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->instance_name, "");
  EXPECT_EQ(plain->flavor, "");
  EXPECT_EQ(plain->project_id, "");
  EXPECT_EQ(plain->cpu_policy, "shared");
  ASSERT_EQ(plain->vcpus.size(), 2u);
  EXPECT_EQ(plain->vcpus[1].affinity.ToString(), "0-15");

  const GuestDomain* bad = Find(inv, "bad-pin");
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->vcpus[0].affinity.ToString(), "12");
  EXPECT_EQ(bad->vcpus[1].affinity.ToString(), "0");
  EXPECT_EQ(bad->emulator_affinity.ToString(), "1");
}

TEST(RefreshDomains, ManyGeneratedDomains) {
  testing::TempTree t;
  std::string xml =
      "<node><cpu><mhz>2000</mhz><model>x86_64</model><active>128</"
      "active><nodes>2</nodes>"
      "<sockets>2</sockets><cores>16</cores><threads>2</threads></"
      "cpu><memory>268435456</memory>";
  for (int i = 0; i < 120; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "instance-%08x", i + 1);
    xml += "<domain type='test'><name>" + std::string(name) +
           "</name><memory unit='MiB'>" + std::to_string(256 + i) +
           "</memory><vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='" +
           std::to_string(8 + i) + "'/><vcpupin vcpu='1' cpuset='" +
           std::to_string(i % 8) +
           "'/></cputune><os><type>hvm</type></os></domain>";
  }
  xml += "</node>";
  t.Write("node.xml", xml);
  std::string uri = "test://" + t.Path("node.xml");
  Conn c(uri);
  ASSERT_NE(c.get(), nullptr) << detail::LastLibvirtError();
  auto snap = detail::RefreshDomains(c.get(), TestOptions(uri),
                                     std::chrono::steady_clock::now() + 30s);
  ASSERT_TRUE(snap) << snap.error();
  ASSERT_EQ(snap->inventory->domains.size(), 120u);
  const GuestDomain* last = Find(*snap->inventory, "instance-00000078");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->vcpus[0].affinity.ToString(), "127");
  EXPECT_EQ(last->vcpus[1].affinity.ToString(), "7");
  EXPECT_EQ(last->memory_bytes, (256ULL + 119) << 20);
}

TEST(RefreshDomains, PastDeadlineFails) {
  Conn c(kMixed);
  ASSERT_NE(c.get(), nullptr);
  auto snap = detail::RefreshDomains(c.get(), TestOptions(kMixed),
                                     std::chrono::steady_clock::now() - 1s);
  ASSERT_FALSE(snap);
  EXPECT_NE(snap.error().find("deadline"), std::string::npos) << snap.error();
}

TEST(LibvirtSource, PublishesAndStops) {
  auto holder = std::make_shared<GuestInventoryHolder>();
  LibvirtSource src(TestOptions(kMixed), holder);
  EXPECT_FALSE(src.Current().up);
  EXPECT_EQ(src.Current().last_good, nullptr);
  src.Start();
  ASSERT_TRUE(src.WaitForAttempts(0, 10s));
  LibvirtStatus st = src.Current();
  EXPECT_TRUE(st.up) << st.error;
  ASSERT_NE(st.last_good, nullptr);
  EXPECT_EQ(st.last_good->inventory->domains.size(), 5u);
  EXPECT_EQ(holder->Current()->domains.size(), 5u);
  EXPECT_EQ(st.connects, 1u);
  src.TriggerRefresh();
  EXPECT_TRUE(src.WaitForAttempts(1, 10s));
  src.Stop();
  src.Stop();
}

TEST(LibvirtSource, AbsentDaemonRetriesWithBackoff) {
  LibvirtOptions o =
      TestOptions("qemu+unix:///system?socket=/nonexistent/libvirt-sock");
  o.max_backoff_seconds = 1;
  LibvirtSource src(o, nullptr);
  src.Start();
  ASSERT_TRUE(src.WaitForAttempts(
      1, 10s));  // two failed connects: it retries by itself
  LibvirtStatus st = src.Current();
  EXPECT_FALSE(st.up);
  EXPECT_EQ(st.last_good, nullptr);
  EXPECT_EQ(st.connects, 0u);
  EXPECT_NE(st.error.find("connecting to"), std::string::npos) << st.error;
  auto t0 = std::chrono::steady_clock::now();
  src.Stop();  // does not wait out the backoff
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

}  // namespace
}  // namespace hostiso
