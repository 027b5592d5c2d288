#include "metrics/violations.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

const prometheus::MetricFamily* Find(
    const std::vector<prometheus::MetricFamily>& fams,
    const std::string& name) {
  for (const auto& f : fams)
    if (f.name == name) return &f;
  return nullptr;
}

TEST(ViolationRegistryTest, EveryKindPresentAtZero) {
  ViolationRegistry reg;
  std::vector<prometheus::MetricFamily> out;
  reg.AppendMetrics(out, 10);
  const auto* gauge = Find(out, "hostiso_violating_subjects");
  ASSERT_NE(gauge, nullptr);
  EXPECT_EQ(gauge->metric.size(), kViolationKindCount);
  for (const auto& m : gauge->metric) EXPECT_EQ(m.gauge.value, 0);
  EXPECT_EQ(Find(out, "hostiso_violations_total")->metric.size(),
            kViolationKindCount);
  EXPECT_TRUE(Find(out, "hostiso_violation_info")->metric.empty());
}

TEST(ViolationRegistryTest, OnsetsCountNewSubjectsOnly) {
  ViolationRegistry reg;
  auto k = ViolationKind::kVcpuOnHostCpu;
  reg.Report(k, {{"instance-1 vcpu 0", CpuSet::FromList({0})}});
  reg.Report(k, {{"instance-1 vcpu 0", CpuSet::FromList({0})}});
  EXPECT_EQ(reg.Onsets(k), 1U);
  reg.Report(k, {{"instance-1 vcpu 0", CpuSet::FromList({0})},
                 {"instance-1 vcpu 1", CpuSet::FromList({1})}});
  EXPECT_EQ(reg.Onsets(k), 2U);
  reg.Report(k, {});
  EXPECT_TRUE(reg.Current(k).empty());
  reg.Report(k, {{"instance-1 vcpu 0", CpuSet::FromList({0})}});
  EXPECT_EQ(reg.Onsets(k), 3U);  // came back: a new onset
}

TEST(ViolationRegistryTest, DuplicateSubjectsMergeAndInfoIsCapped) {
  ViolationRegistry reg;
  reg.Report(ViolationKind::kHostTaskOnGuestCpu,
             {{"comm a", CpuSet::FromList({1})},
              {"comm a", CpuSet::FromList({3})},
              {"comm b", CpuSet::FromList({2})},
              {"comm c", CpuSet::FromList({2})}});
  auto cur = reg.Current(ViolationKind::kHostTaskOnGuestCpu);
  ASSERT_EQ(cur.size(), 3U);
  EXPECT_EQ(cur[0].cpus.ToString(), "1,3");
  std::vector<prometheus::MetricFamily> out;
  reg.AppendMetrics(out, 2);
  EXPECT_EQ(Find(out, "hostiso_violation_info")->metric.size(), 2U);
  // The gauge still counts every subject.
  for (const auto& m : Find(out, "hostiso_violating_subjects")->metric) {
    if (m.label[0].value == "host_task_on_guest_cpu") {
      EXPECT_EQ(m.gauge.value, 3);
    }
  }
}

}  // namespace
}  // namespace hostiso
