#include "exporter/status_page.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/status_html.h"
#include "exporter/status_json.h"
#include "exporter/status_snapshot.h"

namespace hostiso {
namespace {

const std::string kHostileDomain = "<img src=x onerror=alert(1)>\xff\x1b";
const std::string kHostileComm = "ev\"il&\xc3";

std::size_t Count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos;
       at = hay.find(needle, at + 1))
    ++n;
  return n;
}

// Four CPUs on two NUMA nodes, two SMT cores: 0+2 on node 0, 1+3 on node 1.
// CPU 0 host, 1 shared, 2-3 dedicated and isolated.
class StatusSnapshotTest : public ::testing::Test {
 protected:
  StatusSnapshotTest() {
    iso_.topology.online = CpuSet::FromList({0, 1, 2, 3});
    iso_.topology.present = iso_.topology.online;
    iso_.topology.isolated = CpuSet::FromList({2, 3});
    iso_.topology.nohz_full = CpuSet::FromList({3});
    iso_.topology_ok = iso_.cmdline_ok = true;
    GuestCpuSets sets;
    sets.source = GuestSetSource::kNova;
    sets.dedicated = CpuSet::FromList({2, 3});
    sets.shared = CpuSet::FromList({1});
    iso_.guest_sets = sets;
    iso_.roles = CpuRoles(sets, iso_.topology.online);
    iso_.nova_path = "/etc/nova/nova.conf";
    iso_.nova_present = true;
    for (int cpu : {0, 1, 2, 3}) {
      const int node = cpu % 2;
      layout_.cpus.push_back(
          CpuPlace{cpu, 0, node, node, CpuSet::FromList({node, node + 2})});
      layout_.nodes[node].Insert(cpu);
    }
    in_.version = "1.2.3";
    in_.telemetry_path = "/metrics";
    in_.isolation = &iso_;
    in_.layout = &layout_;
    CpuShares shares;
    shares.interval_seconds = 15;
    shares.cpus = {CpuShare{3, 0.02, 0.9, 0.03, 0.05}};
    in_.shares.value = std::make_shared<const CpuShares>(shares);
    in_.shares.taken = in_.now_steady;
    CensusResult census;
    census.top_intruders = {CpuIntruder{2, kHostileComm, 100}};
    in_.census.value = std::make_shared<const CensusResult>(census);
    auto inv = std::make_shared<GuestInventory>();
    GuestDomain d;
    d.name = kHostileDomain;
    d.vcpus = {GuestVcpu{0, 0, CpuSet::FromList({3}), 3},
               GuestVcpu{1, 0, CpuSet::FromList({1, 2}), 1}};
    inv->domains.push_back(d);
    inv->source = "libvirt";
    in_.inventory = inv;
    in_.violations = {
        {ViolationKind::kHostTaskOnGuestCpu,
         {Violation{"comm " + kHostileComm, CpuSet::FromList({2})}}}};
    in_.collectors = {{"cpu", true}, {"disk", false}, {"libvirt", true}};
    CollectorStatus cpu{"cpu", true, true, 0.001, "", in_.now_system};
    in_.statuses = {cpu};
  }
  IsolationSnapshot iso_;
  CpuLayout layout_;
  StatusInputs in_;
};

TEST_F(StatusSnapshotTest, CpusByNodeAndCoreWithWhatSitsOnThem) {
  const StatusSnapshot s = BuildStatusSnapshot(in_);
  ASSERT_EQ(s.cpus.size(), 4u);
  // Node 0 first (CPUs 0, 2: one core), then node 1 (1, 3).
  EXPECT_EQ(s.cpus[0].cpu, 0);
  EXPECT_EQ(s.cpus[1].cpu, 2);
  EXPECT_EQ(s.cpus[2].cpu, 1);
  EXPECT_EQ(s.cpus[3].cpu, 3);
  EXPECT_EQ(s.cpus[0].role, "host");
  EXPECT_EQ(s.cpus[2].role, "shared");
  EXPECT_EQ(s.cpus[3].role, "dedicated");
  EXPECT_TRUE(s.cpus[3].isolated && s.cpus[3].nohz_full);
  EXPECT_TRUE(s.cpus[1].isolated && !s.cpus[1].nohz_full);
  // vCPU 0 pinned to 3; vCPU 1 floating, last on 1.
  ASSERT_EQ(s.cpus[3].vcpus.size(), 1u);
  EXPECT_TRUE(s.cpus[3].vcpus[0].pinned);
  ASSERT_EQ(s.cpus[2].vcpus.size(), 1u);
  EXPECT_FALSE(s.cpus[2].vcpus[0].pinned);
  EXPECT_EQ(s.cpus[2].vcpus[0].vcpu, 1);
  ASSERT_TRUE(s.cpus[3].share.has_value());
  EXPECT_DOUBLE_EQ(s.cpus[3].share->guest, 0.9);
  EXPECT_FALSE(s.cpus[0].share.has_value());
  EXPECT_EQ(s.cpus[1].intruder, kHostileComm);
  EXPECT_TRUE(s.cpus[1].violating);
  EXPECT_FALSE(s.cpus[3].violating);
  ASSERT_EQ(s.collectors.size(), 3u);
  EXPECT_EQ(s.collectors[0].state, "ok");
  EXPECT_EQ(s.collectors[1].state, "disabled");
  EXPECT_EQ(s.collectors[2].state, "not run yet");
  EXPECT_EQ(s.inventory_source, "libvirt");
}

TEST_F(StatusSnapshotTest, WithoutLayoutEveryCpuIsItsOwnBox) {
  in_.layout = nullptr;
  in_.layout_error = "cpu0/topology/core_id: No such file";
  const StatusSnapshot s = BuildStatusSnapshot(in_);
  ASSERT_EQ(s.cpus.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(s.cpus[i].cpu, int(i));
  EXPECT_EQ(s.cpus[0].node, -1);
  const std::string html = RenderStatusHtml(s, 10);
  EXPECT_NE(html.find("CPU layout unavailable"), std::string::npos);
  EXPECT_EQ(Count(html, "<div class=k "), 4u);
}

TEST_F(StatusSnapshotTest, HtmlHasOneCellPerCpuAndEscapesHostStrings) {
  const std::string html = RenderStatusHtml(BuildStatusSnapshot(in_), 10);
  EXPECT_EQ(Count(html, "data-cpu=\""), 4u);
  EXPECT_EQ(Count(html, "<fieldset"), 2u);      // two NUMA nodes
  EXPECT_EQ(Count(html, "<div class=k "), 2u);  // two SMT cores
  EXPECT_NE(html.find("data-cpu=\"3\" data-role=\"dedicated\"><b>3</b> IN h2 "
                      "g90 s3"),
            std::string::npos);
  EXPECT_NE(html.find("<i class=f>"), std::string::npos);  // floating vCPU 1
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_EQ(html.find('\xff'), std::string::npos);
  EXPECT_NE(
      html.find("<i>&lt;img src=x onerror=alert(1)&gt;\xef\xbf\xbd\\x1b/0</i>"),
      std::string::npos);
  EXPECT_NE(html.find("comm ev&quot;il&amp;\xef\xbf\xbd"), std::string::npos);
  EXPECT_NE(html.find("<meta http-equiv=\"refresh\" content=\"10\">"),
            std::string::npos);
  EXPECT_NE(html.find("<a href=\"/metrics\">Metrics</a>"), std::string::npos);
  // No script and no external asset.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST_F(StatusSnapshotTest, JsonCarriesTheSameDataEscaped) {
  const std::string json = RenderStatusJson(BuildStatusSnapshot(in_));
  EXPECT_EQ(Count(json, "\"cpu\":"), 4u + 2u);  // 4 CPUs, 2 guest vCPUs
  EXPECT_NE(json.find("\"domain\":\"<img src=x onerror=alert(1)>\xef\xbf\xbd"
                      "\\u001b\""),
            std::string::npos);
  EXPECT_NE(json.find("\"subject\":\"comm ev\\\"il&\xef\xbf\xbd\""),
            std::string::npos);
  EXPECT_NE(json.find("\"share\":{\"host\":0.02,\"guest\":0.9,\"steal\":0.03,"
                      "\"idle\":0.05}"),
            std::string::npos);
  EXPECT_NE(json.find("\"share\":null"), std::string::npos);
  EXPECT_EQ(json.find('\xff'), std::string::npos);
}

TEST(StatusPageTest, JsonOnlyForFormatJson) {
  EXPECT_TRUE(detail::WantsJson("format=json"));
  EXPECT_TRUE(detail::WantsJson("a=1&format=json"));
  EXPECT_FALSE(detail::WantsJson(""));
  EXPECT_FALSE(detail::WantsJson("format=jsonx"));
  EXPECT_FALSE(detail::WantsJson("xformat=json"));
}

}  // namespace
}  // namespace hostiso
