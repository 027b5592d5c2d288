#include "metrics/census/intrusion_ledger.h"

#include <gtest/gtest.h>

#include <map>

namespace hostiso::detail {
namespace {

using Values = std::map<std::string, std::uint64_t>;  // "cpu/comm" -> ticks

Values Expose(const IntrusionLedger& ledger) {
  Values v;
  for (const auto& s : ledger.Exposition())
    v[std::to_string(s.cpu) + "/" + s.comm] = s.ticks;
  return v;
}

TEST(IntrusionLedgerTest, ZeroSeriesForKernelAndOther) {
  IntrusionLedger ledger(2);
  ledger.Add({}, CpuSet::FromList({1, 3}));
  EXPECT_EQ(
      Expose(ledger),
      (Values{
          {"1/kernel", 0}, {"1/other", 0}, {"3/kernel", 0}, {"3/other", 0}}));
}

TEST(IntrusionLedgerTest, TopNAndOtherFolding) {
  IntrusionLedger ledger(2);
  ledger.Add({{"a", 1, 100, false},
              {"b", 1, 50, false},
              {"c", 1, 10, false},
              {"d", 1, 5, false},
              {"ksoftirqd/1", 1, 7, true}},
             CpuSet::FromList({1}));
  EXPECT_EQ(
      Expose(ledger),
      (Values{{"1/a", 100}, {"1/b", 50}, {"1/kernel", 7}, {"1/other", 15}}));
}

TEST(IntrusionLedgerTest, LeavingTopNFreezesSeriesAndNeverDecreases) {
  IntrusionLedger ledger(1);
  ledger.Add({{"a", 1, 10, false}}, CpuSet::FromList({1}));
  EXPECT_EQ(Expose(ledger)["1/a"], 10u);
  // b overtakes a: a's series leaves the exposition with its value frozen,
  // a's new time goes to "other", b's series starts at this round's time.
  ledger.Add({{"a", 1, 1, false}, {"b", 1, 30, false}}, CpuSet::FromList({1}));
  Values v = Expose(ledger);
  EXPECT_EQ(v.count("1/a"), 0u);
  EXPECT_EQ(v["1/b"], 30u);
  EXPECT_EQ(v["1/other"], 1u);
  // a comes back on top: its series resumes from 10, other keeps its 1.
  ledger.Add({{"a", 1, 40, false}}, CpuSet::FromList({1}));
  v = Expose(ledger);
  EXPECT_EQ(v["1/a"], 50u);
  EXPECT_EQ(v.count("1/b"), 0u);
  EXPECT_EQ(v["1/other"], 1u);
}

TEST(IntrusionLedgerTest, ReservedNamesFoldIntoOther) {
  IntrusionLedger ledger(5);
  ledger.Add({{"kernel", 2, 3, false}, {"other", 2, 4, false}},
             CpuSet::FromList({2}));
  EXPECT_EQ(Expose(ledger), (Values{{"2/kernel", 0}, {"2/other", 7}}));
}

TEST(IntrusionLedgerTest, TrackedNamesAreBounded) {
  IntrusionLedger ledger(10, /*max_tracked=*/2);
  ledger.Add({{"a", 1, 1, false}, {"b", 1, 1, false}, {"c", 1, 100, false}},
             CpuSet());
  Values v = Expose(ledger);
  EXPECT_EQ(v["1/a"], 1u);
  EXPECT_EQ(v["1/b"], 1u);
  EXPECT_EQ(v.count("1/c"), 0u);
  EXPECT_EQ(v["1/other"], 100u);
}

TEST(IntrusionLedgerTest, ZeroTopNPutsEverythingInOther) {
  IntrusionLedger ledger(0);
  ledger.Add({{"a", 0, 5, false}}, CpuSet());
  EXPECT_EQ(Expose(ledger), (Values{{"0/other", 5}}));
}

}  // namespace
}  // namespace hostiso::detail
