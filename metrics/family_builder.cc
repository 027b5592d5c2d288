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

// Fills a sample constructed in place in the family's vector: a scrape adds
// tens of thousands (libvirt: 4 per vCPU), and moving a ClientMetric (with its
// summary and histogram members) into the vector costs as much as filling it.
template <typename LabelRange>
void FillSample(prometheus::ClientMetric& m, const LabelRange& labels,
                prometheus::MetricType type, double value) {
  m.label.resize(labels.size());
  auto out = m.label.begin();
  for (const auto& [k, v] : labels) {
    out->name.assign(k.data(), k.size());
    out->value.assign(v.data(), v.size());
    ++out;
  }
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
}

}  // namespace

FamilyBuilder& FamilyBuilder::Add(Labels labels, double value) {
  FillSample(family_.metric.emplace_back(), labels, family_.type, value);
  return *this;
}

FamilyBuilder& FamilyBuilder::Add(
    const std::vector<std::pair<std::string, std::string>>& labels,
    double value) {
  FillSample(family_.metric.emplace_back(), labels, family_.type, value);
  return *this;
}

void FamilyBuilder::AppendTo(std::vector<prometheus::MetricFamily>& out) && {
  out.push_back(std::move(family_));
}

}  // namespace hostiso
