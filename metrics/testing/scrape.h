#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "metrics/collector.h"
#include "metrics/guest_sample.h"

namespace hostiso::testing {

// What one scrape gives a collector in unit tests: an isolation snapshot the
// test sets, a violation registry and a guest sampler over `procfs`.
struct ScrapeFixture {
  explicit ScrapeFixture(std::string procfs = "/nonexistent-procfs")
      : sampler(std::move(procfs)) {}

  // Runs one scrape of `c`; `ok` (when given) receives whether it succeeded.
  std::vector<prometheus::MetricFamily> Scrape(Collector& c,
                                               bool* ok = nullptr) {
    std::vector<prometheus::MetricFamily> out;
    sampler.Reset();
    ScrapeContext ctx{isolation, violations, sampler};
    Expected<void> r = c.Collect(ctx, out);
    last_error = r ? "" : r.error();
    if (ok != nullptr) *ok = r.ok();
    return out;
  }

  IsolationSnapshot isolation;
  ViolationRegistry violations;
  GuestSampler sampler;
  std::string last_error;
};

}  // namespace hostiso::testing
