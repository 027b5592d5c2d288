#include "metrics/family_builder.h"

namespace hostiso {

FamilyBuilder::FamilyBuilder(std::string name, std::string help,
                             prometheus::MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

FamilyBuilder FamilyBuilder::Gauge(std::string name, std::string help) {
  return FamilyBuilder(std::move(name), std::move(help),
                       prometheus::MetricType::Gauge);
}

void FamilyBuilder::AppendGauge(std::vector<prometheus::MetricFamily>& out,
                                std::string name, std::string help,
                                double value) {
  auto f = Gauge(std::move(name), std::move(help));
  f.Add({}, value);
  std::move(f).AppendTo(out);
}

FamilyBuilder FamilyBuilder::Counter(std::string name, std::string help) {
  return FamilyBuilder(std::move(name), std::move(help),
                       prometheus::MetricType::Counter);
}

namespace {

template <typename LabelRange>
prometheus::ClientMetric MakeSample(const LabelRange& labels,
                                    prometheus::MetricType type, double value) {
  prometheus::ClientMetric m;
  m.label.reserve(labels.size());
  for (const auto& [k, v] : labels) {
    m.label.push_back({std::string(k), std::string(v)});
  }
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

}  // namespace

FamilyBuilder& FamilyBuilder::Add(Labels labels, double value) {
  family_.metric.push_back(MakeSample(labels, family_.type, value));
  return *this;
}

FamilyBuilder& FamilyBuilder::Add(
    const std::vector<std::pair<std::string, std::string>>& labels,
    double value) {
  family_.metric.push_back(MakeSample(labels, family_.type, value));
  return *this;
}

void FamilyBuilder::AppendTo(std::vector<prometheus::MetricFamily>& out) && {
  out.push_back(std::move(family_));
}

}  // namespace hostiso
