#include "metrics/exporter_collectable.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

class FakeCollector : public Collector {
 public:
  enum class Mode { kOk, kFail, kThrow };
  explicit FakeCollector(std::string name, Mode mode)
      : name_(std::move(name)), mode_(mode) {}
  std::string_view Name() const override { return name_; }
  bool Collect(const ScrapeContext&,
               std::vector<prometheus::MetricFamily>&) override {
    if (mode_ == Mode::kThrow) throw std::runtime_error("boom");
    return mode_ == Mode::kOk;
  }

 private:
  std::string name_;
  Mode mode_;
};

TEST(ExporterCollectableTest, SelfMetricsAndIsolationOfFailures) {
  testing::TempTree t;
  IsolationOptions o;
  o.procfs = t.Path("proc");
  o.sysfs = t.Path("sys");
  o.nova_config = t.Path("nova.conf");
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(
      std::make_unique<FakeCollector>("good", FakeCollector::Mode::kOk));
  cs.push_back(
      std::make_unique<FakeCollector>("bad", FakeCollector::Mode::kFail));
  cs.push_back(
      std::make_unique<FakeCollector>("throws", FakeCollector::Mode::kThrow));
  ExporterCollectable ec({"1.2.3", "abc"}, std::make_shared<IsolationSource>(o),
                         std::move(cs), std::make_shared<ViolationRegistry>(),
                         10);
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
}

}  // namespace
}  // namespace hostiso
