#include "metrics/exporter_collectable.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

class FakeCollector : public Collector {
 public:
  enum class Mode { kOk, kFail, kThrow };
  explicit FakeCollector(Mode mode) : mode_(mode) {}
  Expected<void> Collect(const ScrapeContext&,
                         std::vector<prometheus::MetricFamily>&) override {
    if (mode_ == Mode::kThrow) throw std::runtime_error("boom");
    if (mode_ == Mode::kFail) return Error("input unreadable");
    return Ok();
  }

 private:
  Mode mode_;
};

TEST(ExporterCollectableTest, SelfMetricsAndIsolationOfFailures) {
  testing::TempTree t;
  IsolationOptions o;
  o.paths.procfs = t.Path("proc");
  o.paths.sysfs = t.Path("sys");
  o.nova_config = t.Path("nova.conf");
  std::vector<NamedCollector> cs;
  cs.push_back(
      {"good", std::make_unique<FakeCollector>(FakeCollector::Mode::kOk)});
  cs.push_back(
      {"bad", std::make_unique<FakeCollector>(FakeCollector::Mode::kFail)});
  cs.push_back(
      {"throws", std::make_unique<FakeCollector>(FakeCollector::Mode::kThrow)});
  ExporterOptions options;
  options.build = {"1.2.3", "abc"};
  options.max_violation_info = 10;
  ExporterCollectable ec(options, std::make_shared<IsolationSource>(o),
                         std::move(cs), std::make_shared<ViolationRegistry>());
  auto out = ec.Collect();
  std::map<std::string, double> success;
  bool build = false, violations = false;
  for (const auto& f : out) {
    if (f.name == "hostiso_collector_success")
      for (const auto& m : f.metric) success[m.label[0].value] = m.gauge.value;
    if (f.name == "hostiso_build_info") {
      build = true;
      EXPECT_EQ(f.metric[0].label[0].value, "1.2.3");
    }
    if (f.name == "hostiso_violating_subjects") violations = true;
  }
  EXPECT_EQ(success["good"], 1);
  EXPECT_EQ(success["bad"], 0);
  EXPECT_EQ(success["throws"], 0);
  EXPECT_TRUE(build);
  EXPECT_TRUE(violations);
  auto statuses = ec.Statuses();
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].success);
  EXPECT_EQ(statuses[1].error, "input unreadable");
  EXPECT_EQ(statuses[2].error, "threw: boom");
  std::set<std::string> names;
  for (const auto& f : out) names.insert(f.name);
  EXPECT_EQ(names.count("hostiso_exporter_build_info"), 1u);
  EXPECT_EQ(names.count("process_cpu_seconds_total"), 1u);
}

TEST(ExporterCollectableTest, ExporterMetricsCanBeTurnedOff) {
  testing::TempTree t;
  IsolationOptions o;
  o.paths.procfs = t.Path("proc");
  ExporterOptions options;
  options.exporter_metrics = false;
  options.config_sources.emplace_back("web_config", [] { return false; });
  ExporterCollectable ec(options, std::make_shared<IsolationSource>(o), {},
                         std::make_shared<ViolationRegistry>());
  bool web_config_zero = false;
  for (const auto& f : ec.Collect()) {
    EXPECT_NE(f.name, "process_cpu_seconds_total");
    EXPECT_NE(f.name, "hostiso_exporter_build_info");
    if (f.name == "hostiso_config_load_success") {
      for (const auto& m : f.metric)
        if (m.label[0].value == "web_config")
          web_config_zero = m.gauge.value == 0;
    }
  }
  EXPECT_TRUE(web_config_zero);
}

}  // namespace
}  // namespace hostiso
