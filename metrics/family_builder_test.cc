#include "metrics/family_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

using Families = std::vector<prometheus::MetricFamily>;

// One scrape's family "vcpu_seconds" with `n` series; with or without pool.
Families Build(int n, double base, FamilyPool* pool) {
  Families out;
  auto f = FamilyBuilder::Counter("vcpu_seconds", "Run time.", pool);
  for (int i = 0; i < n; ++i) {
    const std::string vcpu = std::to_string(i);
    f.Add({{"domain", "instance-0000002a-long-name"}, {"vcpu", vcpu}},
          base + i);
  }
  std::move(f).AppendTo(out);
  return out;
}

TEST(FamilyPoolTest, RefilledFamilyEqualsOneBuiltAfresh) {
  FamilyPool pool;
  // More series, then fewer, then more again than the storage given back.
  for (int n : {5, 3, 0, 7, 7}) {
    Families pooled = Build(n, n * 10.5, &pool);
    const Families fresh = Build(n, n * 10.5, nullptr);
    EXPECT_EQ(TextExposition::ToString(pooled), TextExposition::ToString(fresh))
        << n;
    ASSERT_EQ(pooled[0].metric.size(), static_cast<std::size_t>(n));
    pool.GiveBack(std::move(pooled));
  }
}

TEST(FamilyPoolTest, ReusesTheStorageOfTheFamilyGivenBack) {
  FamilyPool pool;
  Families first = Build(4, 1, &pool);
  const std::string* name_storage = &first[0].metric[2].label[0].value;
  const char* chars = name_storage->data();
  pool.GiveBack(std::move(first));
  Families second = Build(4, 2, &pool);
  // The same label string, refilled in place: no allocation.
  EXPECT_EQ(second[0].metric[2].label[0].value.data(), chars);
  EXPECT_EQ(second[0].metric[2].counter.value, 4);
}

TEST(FamilyPoolTest, EveryFieldOfAReusedSeriesIsOverwritten) {
  FamilyPool pool;
  // Storage of another shape under the same name: a summary's quantiles, a
  // timestamp, five labels and both values set.
  Families given(1);
  given[0].name = "vcpu_seconds";
  prometheus::ClientMetric odd;
  for (int i = 0; i < 5; ++i)
    odd.label.push_back({"l" + std::to_string(i), "v"});
  odd.counter.value = 7;
  odd.gauge.value = 8;
  odd.untyped.value = 9;
  odd.timestamp_ms = 1234;
  odd.summary.sample_count = 3;
  odd.summary.quantile.push_back({0.5, 1.0});
  odd.histogram.bucket.push_back({1, 2.0});
  given[0].metric.assign(3, odd);
  (void)pool.Take("vcpu_seconds");  // only wanted names are kept
  pool.GiveBack(std::move(given));
  Families pooled = Build(2, 1, &pool);
  EXPECT_EQ(TextExposition::ToString(pooled),
            TextExposition::ToString(Build(2, 1, nullptr)));
  for (const prometheus::ClientMetric& m : pooled[0].metric) {
    EXPECT_EQ(m.label.size(), 2u);
    EXPECT_EQ(m.gauge.value, 0);
    EXPECT_EQ(m.untyped.value, 0);
    EXPECT_EQ(m.timestamp_ms, 0);
    EXPECT_EQ(m.summary.sample_count, 0u);
    EXPECT_TRUE(m.summary.quantile.empty());
    EXPECT_TRUE(m.histogram.bucket.empty());
  }
}

TEST(FamilyPoolTest, KeepsOnlyFamiliesABuilderAskedFor) {
  FamilyPool pool;
  Families other(1);
  other[0].name = "not_pooled";
  other[0].metric.resize(3);
  pool.GiveBack(std::move(other));
  EXPECT_TRUE(pool.Take("not_pooled").metric.empty());
  // Asked for now: kept from the next give-back on.
  Families again(1);
  again[0].name = "not_pooled";
  again[0].metric.resize(3);
  pool.GiveBack(std::move(again));
  EXPECT_EQ(pool.Take("not_pooled").metric.size(), 3u);
  // Taken: the pool holds it no more.
  EXPECT_TRUE(pool.Take("not_pooled").metric.empty());
}

}  // namespace
}  // namespace hostiso
