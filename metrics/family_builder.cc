#include "metrics/family_builder.h"

#include "metrics/copy_small.h"

namespace hostiso {

prometheus::MetricFamily FamilyPool::Take(const std::string& name) {
  MutexLock lock(mu_);
  wanted_.insert(name);
  auto it = free_.find(name);
  if (it == free_.end()) return {};
  prometheus::MetricFamily family = std::move(it->second);
  free_.erase(it);
  return family;
}

void FamilyPool::GiveBack(std::vector<prometheus::MetricFamily> families) {
  MutexLock lock(mu_);
  for (prometheus::MetricFamily& f : families) {
    if (wanted_.count(f.name) != 0) free_[f.name] = std::move(f);
  }
}

FamilyBuilder::FamilyBuilder(std::string name, std::string help,
                             prometheus::MetricType type, FamilyPool* pool) {
  if (pool != nullptr) family_ = pool->Take(name);
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

FamilyBuilder FamilyBuilder::Gauge(std::string name, std::string help,
                                   FamilyPool* pool) {
  return FamilyBuilder(std::move(name), std::move(help),
                       prometheus::MetricType::Gauge, pool);
}

void FamilyBuilder::AppendGauge(std::vector<prometheus::MetricFamily>& out,
                                std::string name, std::string help,
                                double value) {
  auto f = Gauge(std::move(name), std::move(help));
  f.Add({}, value);
  std::move(f).AppendTo(out);
}

FamilyBuilder FamilyBuilder::Counter(std::string name, std::string help,
                                     FamilyPool* pool) {
  return FamilyBuilder(std::move(name), std::move(help),
                       prometheus::MetricType::Counter, pool);
}

namespace {

// Fills a sample in place in the family's vector, new or reused: a scrape
// adds tens of thousands (libvirt: 4 per vCPU), and moving a ClientMetric
// (with its summary and histogram members) into the vector costs as much as
// filling it. Every field is set: a reused sample keeps only its capacity.
template <typename LabelRange>
void FillSample(prometheus::ClientMetric& m, const LabelRange& labels,
                prometheus::MetricType type, double value) {
  m.label.resize(labels.size());
  auto out = m.label.begin();
  for (const auto& [k, v] : labels) {
    AssignSmall(out->name, k);
    AssignSmall(out->value, v);
    ++out;
  }
  const bool counter = type == prometheus::MetricType::Counter;
  m.counter.value = counter ? value : 0;
  m.gauge.value = counter ? 0 : value;
  m.untyped.value = 0;
  m.summary.sample_count = 0;
  m.summary.sample_sum = 0;
  m.summary.quantile.clear();
  m.histogram.sample_count = 0;
  m.histogram.sample_sum = 0;
  m.histogram.bucket.clear();
  m.timestamp_ms = 0;
}

}  // namespace

prometheus::ClientMetric& FamilyBuilder::NextSample() {
  if (used_ == family_.metric.size()) family_.metric.emplace_back();
  return family_.metric[used_++];
}

FamilyBuilder& FamilyBuilder::Add(Labels labels, double value) {
  FillSample(NextSample(), labels, family_.type, value);
  return *this;
}

FamilyBuilder& FamilyBuilder::Add(
    const std::vector<std::pair<std::string, std::string>>& labels,
    double value) {
  FillSample(NextSample(), labels, family_.type, value);
  return *this;
}

void FamilyBuilder::AppendTo(std::vector<prometheus::MetricFamily>& out) && {
  out.push_back(std::move(*this).Build());
}

prometheus::MetricFamily FamilyBuilder::Build() && {
  // Reused series beyond those filled this scrape are dropped.
  family_.metric.erase(
      family_.metric.begin() + static_cast<std::ptrdiff_t>(used_),
      family_.metric.end());
  return std::move(family_);
}

}  // namespace hostiso
