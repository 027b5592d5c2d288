#include "metrics/detectors/guest_detectors.h"

#include <gtest/gtest.h>

#include "metrics/testing/cpu_list.h"

namespace hostiso {
namespace {

using testing::Cpus;

// host 0-1, shared 2-7, dedicated 8-15.
CpuRoles Roles() {
  GuestCpuSets sets;
  sets.source = GuestSetSource::kNova;
  sets.shared = Cpus("2-7");
  sets.dedicated = Cpus("8-15");
  return CpuRoles(sets, Cpus("0-15"));
}

GuestDomain Dom(std::string name, std::vector<const char*> affinities,
                const char* emulator = "", std::string policy = "") {
  GuestDomain d;
  d.name = std::move(name);
  d.cpu_policy = std::move(policy);
  d.vcpu_count = static_cast<int>(affinities.size());
  d.memory_bytes = 1ULL << 30;
  for (std::size_t i = 0; i < affinities.size(); ++i)
    d.vcpus.push_back(
        GuestVcpu{static_cast<int>(i), 0, Cpus(affinities[i]), -1});
  d.emulator_affinity = Cpus(emulator);
  return d;
}

std::vector<std::string> Subjects(const std::vector<Violation>& v) {
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& x : v)
    out.push_back(x.subject + " [" + x.cpus.ToString() + "]");
  return out;
}

using Strings = std::vector<std::string>;

TEST(Detectors, VcpuOnHostCpu) {
  GuestInventory inv;
  inv.domains = {Dom("good", {"9", "10"}), Dom("bad", {"12", "0"}),
                 Dom("float", {"0-15"})};
  EXPECT_EQ(Subjects(DetectVcpuOnHostCpu(inv, Roles())),
            (Strings{"bad vcpu 1 [0]", "float vcpu 0 [0-1]"}));
}

TEST(Detectors, EmulatorAndIothreads) {
  GuestInventory inv;
  GuestDomain d = Dom("vm", {"9"}, "1-3");
  d.iothread_affinity = {Cpus("2-3"), Cpus("0")};
  inv.domains = {d, Dom("clean", {"10"}, "2-7")};
  EXPECT_EQ(Subjects(DetectEmulatorOnHostCpu(inv, Roles())),
            (Strings{"vm emulator [1]", "vm iothread 2 [0]"}));
}

TEST(Detectors, DedicatedCpuShared) {
  GuestInventory inv;
  // CPU 9 pinned twice; CPU 12-13 reachable by a floating vCPU; 10 is clean.
  inv.domains = {Dom("a", {"9", "10"}), Dom("b", {"9"}),
                 Dom("c", {"2-7,12-13"})};
  EXPECT_EQ(Subjects(DetectDedicatedCpuShared(inv, Roles())),
            (Strings{"cpu 9 [9]", "cpu 12 [12]", "cpu 13 [13]"}));
  GuestCpuSets none;
  EXPECT_TRUE(
      DetectDedicatedCpuShared(inv, CpuRoles(none, Cpus("0-15"))).empty());
}

TEST(Detectors, VcpuCapacityAndOvercommit) {
  NovaConfig nova;
  nova.cpu_allocation_ratio = 2.0;
  GuestInventory inv;
  // 8 dedicated-role CPUs, 6 shared x 2 = 12 shared slots.
  inv.domains = {
      Dom("pinned", {"8", "9"}),                       // dedicated by affinity
      Dom("policy", {"2-7", "2-7"}, "", "dedicated"),  // dedicated by policy
      Dom("shared", {"2-7", "2-7", "2-7"}),
      Dom("single-shared", {"3"})};  // one shared CPU: still shared
  VcpuCapacity cap = ComputeVcpuCapacity(inv, Roles(), nova);
  EXPECT_DOUBLE_EQ(cap.shared_capacity, 12);
  EXPECT_DOUBLE_EQ(cap.dedicated_capacity, 8);
  EXPECT_EQ(cap.shared_allocated, 4u);
  EXPECT_EQ(cap.dedicated_allocated, 4u);
  EXPECT_TRUE(DetectCpuOvercommit(cap).empty());
  for (int i = 0; i < 5; ++i)
    inv.domains.push_back(Dom("p" + std::to_string(i), {"15"}));
  cap = ComputeVcpuCapacity(inv, Roles(), nova);
  EXPECT_EQ(cap.dedicated_allocated, 9u);
  EXPECT_EQ(Subjects(DetectCpuOvercommit(cap)),
            (Strings{"policy dedicated [8-15]"}));
}

TEST(Detectors, LegacyGuestRoleCountsAsShared) {
  GuestCpuSets sets;
  sets.source = GuestSetSource::kFlag;
  sets.legacy = Cpus("1");
  CpuRoles roles(sets, Cpus("0-1"));
  GuestInventory inv;
  inv.domains = {Dom("a", {"1"}), Dom("b", {"1"}), Dom("c", {"1"}),
                 Dom("d", {"1"}), Dom("e", {"1"})};
  NovaConfig nova;  // cpu_allocation_ratio 4
  VcpuCapacity cap = ComputeVcpuCapacity(inv, roles, nova);
  EXPECT_DOUBLE_EQ(cap.shared_capacity, 4);
  EXPECT_EQ(cap.shared_allocated, 5u);
  EXPECT_EQ(Subjects(DetectCpuOvercommit(cap)), (Strings{"policy shared [1]"}));
}

TEST(Detectors, RamOvercommit) {
  NovaConfig nova;  // reserved 512 MiB, ratio 1.0
  GuestInventory inv;
  inv.domains = {Dom("a", {"2"}), Dom("b", {"3"})};  // 2 GiB
  GuestMemory m = ComputeGuestMemory(inv, 3ULL << 30, nova);
  EXPECT_EQ(m.allocated_bytes, 2ULL << 30);
  EXPECT_DOUBLE_EQ(m.capacity_bytes,
                   static_cast<double>((3ULL << 30) - (512ULL << 20)));
  EXPECT_TRUE(DetectRamOvercommit(m).empty());
  m = ComputeGuestMemory(inv, 2ULL << 30, nova);
  EXPECT_EQ(Subjects(DetectRamOvercommit(m)), (Strings{"memory []"}));
  nova.ram_allocation_ratio = 1.5;
  m = ComputeGuestMemory(inv, 2ULL << 30, nova);
  EXPECT_TRUE(DetectRamOvercommit(m).empty());
}

}  // namespace
}  // namespace hostiso
