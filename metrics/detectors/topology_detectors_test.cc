#include "metrics/detectors/topology_detectors.h"

#include <gtest/gtest.h>

#include <map>

namespace hostiso {
namespace {

// 8 CPUs, 2 nodes (0-3 and 4-7), SMT siblings N and N+2 within a node.
CpuLayout TwoNodeSmt() {
  CpuLayout layout;
  for (int cpu = 0; cpu < 8; ++cpu) {
    CpuPlace p;
    p.cpu = cpu;
    p.package = cpu / 4;
    p.core = cpu % 2;
    p.numa_node = cpu / 4;
    const int first = (cpu / 4) * 4 + cpu % 2;
    p.smt_siblings = CpuSet::FromList({first, first + 2});
    layout.cpus.push_back(p);
    layout.nodes[cpu / 4].Insert(cpu);
  }
  return layout;
}

CpuRoles Roles(const CpuSet& dedicated, const CpuSet& shared) {
  GuestCpuSets sets;
  sets.source = GuestSetSource::kNova;
  sets.dedicated = dedicated;
  sets.shared = shared;
  CpuSet all;
  for (int cpu = 0; cpu < 8; ++cpu) all.Insert(cpu);
  return CpuRoles(sets, all);
}

GuestDomain Domain(const std::string& name, std::vector<CpuSet> pins) {
  GuestDomain d;
  d.name = name;
  for (std::size_t i = 0; i < pins.size(); ++i) {
    GuestVcpu v;
    v.index = static_cast<int>(i);
    v.affinity = pins[i];
    d.vcpus.push_back(v);
  }
  d.vcpu_count = static_cast<int>(pins.size());
  return d;
}

std::map<std::string, std::string> BySubject(const std::vector<Violation>& v) {
  std::map<std::string, std::string> out;
  for (const Violation& x : v) out[x.subject] = x.cpus.ToString();
  return out;
}

TEST(SmtSiblingSharedTest, SiblingOfHostOrSharedCpu) {
  // Host 0, shared 1, dedicated 2-7: CPU 2 is CPU 0's sibling, 3 is 1's.
  const auto v = BySubject(DetectSmtSiblingShared(
      TwoNodeSmt(),
      Roles(CpuSet::FromList({2, 3, 4, 5, 6, 7}), CpuSet::FromList({1})),
      nullptr, nullptr));
  EXPECT_EQ(v, (std::map<std::string, std::string>{
                   {"cpu 2 (sibling of host cpu 0)", "2"},
                   {"cpu 3 (sibling of shared cpu 1)", "3"}}));
}

TEST(SmtSiblingSharedTest, SiblingRunsAnotherDomainsVcpu) {
  GuestInventory inv;
  inv.domains.push_back(Domain("instance-0000002a",
                               {CpuSet::FromList({4}), CpuSet::FromList({7})}));
  inv.domains.push_back(Domain("instance-0000002b", {CpuSet::FromList({6})}));
  // One domain on both siblings of a core (5 and 7) is fine.
  inv.domains.push_back(Domain("instance-0000002c",
                               {CpuSet::FromList({5}), CpuSet::FromList({7})}));
  const CpuRoles roles = Roles(CpuSet::FromList({4, 5, 6, 7}), {});
  const auto v =
      BySubject(DetectSmtSiblingShared(TwoNodeSmt(), roles, &inv, nullptr));
  EXPECT_EQ(v, (std::map<std::string, std::string>{
                   {"cpu 4 (sibling of instance-0000002b vcpu 0)", "4"},
                   {"cpu 6 (sibling of instance-0000002a vcpu 0)", "6"},
                   {"cpu 5 (sibling of instance-0000002a vcpu 1)", "5"}}));
  // Without the inventory the vCPU check is not made.
  EXPECT_TRUE(
      DetectSmtSiblingShared(TwoNodeSmt(), roles, nullptr, nullptr).empty());
}

TEST(SmtSiblingSharedTest, IdleDedicatedCpuHasNoGuestToDisturb) {
  GuestInventory inv;
  inv.domains.push_back(Domain("instance-0000002b", {CpuSet::FromList({6})}));
  EXPECT_TRUE(DetectSmtSiblingShared(TwoNodeSmt(),
                                     Roles(CpuSet::FromList({4, 6}), {}), &inv,
                                     nullptr)
                  .empty());
}

TEST(SmtSiblingSharedTest, SiblingWithHostIntrusion) {
  const CpuSet intruded = CpuSet::FromList({5});
  const auto v = BySubject(DetectSmtSiblingShared(
      TwoNodeSmt(), Roles(CpuSet::FromList({4, 5, 6, 7}), {}), nullptr,
      &intruded));
  EXPECT_EQ(v, (std::map<std::string, std::string>{
                   {"cpu 7 (sibling of cpu 5 with host intrusion)", "7"}}));
}

TEST(SmtSiblingSharedTest, QuietWithoutGuestSetsOrSmt) {
  EXPECT_TRUE(DetectSmtSiblingShared(TwoNodeSmt(), CpuRoles(), nullptr, nullptr)
                  .empty());
  CpuLayout no_smt = TwoNodeSmt();
  for (CpuPlace& p : no_smt.cpus) p.smt_siblings = CpuSet::FromList({p.cpu});
  EXPECT_TRUE(DetectSmtSiblingShared(
                  no_smt, Roles(CpuSet::FromList({2, 3}), {}), nullptr, nullptr)
                  .empty());
}

TEST(NumaMisplacementTest, VcpusOutsideTheNumatuneNode) {
  GuestInventory inv;
  GuestDomain d = Domain("instance-0000002a",
                         {CpuSet::FromList({4}), CpuSet::FromList({5})});
  d.numatune_nodes = CpuSet::FromList({0});
  d.numa_cells = 1;
  inv.domains.push_back(d);
  const auto v = BySubject(DetectNumaMisplacement(TwoNodeSmt(), inv));
  EXPECT_EQ(
      v,
      (std::map<std::string, std::string>{
          {"instance-0000002a (vcpus on node 1, memory on node 0)", "4-5"}}));
}

TEST(NumaMisplacementTest, MemsAllowedRestrictsMemoryNodes) {
  const CpuLayout layout = TwoNodeSmt();
  GuestDomain d = Domain("g", {CpuSet::FromList({0}), CpuSet::FromList({5})});
  // Every node allowed is the kernel's default: no restriction.
  d.mems_allowed = CpuSet::FromList({0, 1});
  EXPECT_FALSE(GuestMemoryNodes(d, layout).has_value());
  d.mems_allowed = CpuSet::FromList({1});
  ASSERT_TRUE(GuestMemoryNodes(d, layout).has_value());
  GuestInventory inv;
  inv.domains.push_back(d);
  EXPECT_EQ(BySubject(DetectNumaMisplacement(layout, inv)),
            (std::map<std::string, std::string>{
                {"g (vcpus on node 0, memory on node 1)", "0"}}));
  // numatune and the cpuset intersect.
  d.numatune_nodes = CpuSet::FromList({0, 1});
  d.mems_allowed = CpuSet::FromList({0, 1});
  EXPECT_EQ(*GuestMemoryNodes(d, layout), CpuSet::FromList({0, 1}));
}

TEST(NumaMisplacementTest, PinnedVcpusSpanNodesWithOneOrNoCell) {
  GuestInventory inv;
  // Pinned 1:1, no numatune, no cells: CPUs 0, 1 on node 0, 4 on node 1.
  inv.domains.push_back(Domain(
      "a",
      {CpuSet::FromList({0}), CpuSet::FromList({1}), CpuSet::FromList({4})}));
  GuestDomain b = Domain("b", {CpuSet::FromList({2}), CpuSet::FromList({6})});
  b.numa_cells = 1;
  inv.domains.push_back(b);
  GuestDomain two_cells = b;
  two_cells.name = "c";
  two_cells.numa_cells = 2;
  inv.domains.push_back(two_cells);
  // A floating guest without NUMA placement may span nodes.
  inv.domains.push_back(Domain("d", {CpuSet::FromList({1, 2, 5, 6})}));
  const auto v = BySubject(DetectNumaMisplacement(TwoNodeSmt(), inv));
  EXPECT_EQ(v, (std::map<std::string, std::string>{
                   {"a (vcpus on nodes 0-1, no numa cell)", "4"},
                   {"b (vcpus on nodes 0-1, 1 numa cell)", "6"}}));
}

TEST(NumaMisplacementTest, WellPlacedGuestIsClean) {
  GuestInventory inv;
  GuestDomain d = Domain("g", {CpuSet::FromList({4}), CpuSet::FromList({6})});
  d.numatune_nodes = CpuSet::FromList({1});
  d.mems_allowed = CpuSet::FromList({1});
  inv.domains.push_back(d);
  inv.domains.push_back(Domain("unknown-affinity", {CpuSet()}));
  EXPECT_TRUE(DetectNumaMisplacement(TwoNodeSmt(), inv).empty());
  EXPECT_EQ(detail::NodeListWords(CpuSet()), "no node");
}

}  // namespace
}  // namespace hostiso
