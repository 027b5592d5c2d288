#include "metrics/exporter_collectable.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "metrics/family_builder.h"
#include "metrics/testing/temp_tree.h"
#include "metrics/text_exposition.h"

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

// Appends a family, a RenderedFamily, and another family.
class RenderingCollector : public Collector {
 public:
  RenderingCollector() {
    auto b = FamilyBuilder::Gauge("rendered_info", "Built once.");
    b.Add({{"cpu", "0"}}, 1);
    b.Add({{"cpu", "1"}}, 1);
    rendered_ = RenderedFamily::Make(std::move(b).Build());
  }
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override {
    FamilyBuilder::AppendGauge(out, "before", "Before.", 1);
    ctx.AppendRendered(rendered_, out);
    FamilyBuilder::AppendGauge(out, "after", "After.", 2);
    return Ok();
  }

 private:
  std::shared_ptr<const RenderedFamily> rendered_;
};

// The collector's duration changes from scrape to scrape.
std::string WithoutDurations(const std::string& text) {
  std::istringstream in(text);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.rfind("hostiso_collector_duration_seconds{", 0) != 0)
      kept += line + "\n";
  }
  return kept;
}

// ScrapeText writes what the text of Collect()'s families is, the rendered
// family where its collector put it, once.
TEST(ExporterCollectableTest, ScrapeTextIsTheTextOfCollect) {
  testing::TempTree t;
  IsolationOptions o;
  o.paths.procfs = t.Path("proc");
  std::vector<NamedCollector> cs;
  cs.push_back({"rendering", std::make_unique<RenderingCollector>()});
  ExporterOptions options;
  options.exporter_metrics = false;
  ExporterCollectable ec(options, std::make_shared<IsolationSource>(o),
                         std::move(cs), std::make_shared<ViolationRegistry>());
  const std::vector<prometheus::MetricFamily> collected = ec.Collect();
  ASSERT_GE(collected.size(), 3U);
  EXPECT_EQ(collected[1].name, "rendered_info");
  EXPECT_EQ(collected[1].metric.size(), 2U);
  const std::string served = ec.ScrapeText();
  EXPECT_EQ(WithoutDurations(served),
            WithoutDurations(TextExposition::ToString(collected)));
  const std::string series = "rendered_info{cpu=\"1\"} 1\n";
  ASSERT_NE(served.find(series), std::string::npos);
  EXPECT_EQ(served.find(series), served.rfind(series));
  EXPECT_LT(served.find("\nbefore 1\n"), served.find(series));
  EXPECT_LT(served.find(series), served.find("\nafter 2\n"));
  // A second scrape, with the families given back, serves the same.
  EXPECT_EQ(WithoutDurations(ec.ScrapeText()), WithoutDurations(served));
}

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
