#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <string_view>
#include <vector>

#include "metrics/expected.h"
#include "metrics/family_builder.h"
#include "metrics/guest_sample.h"
#include "metrics/isolation_source.h"
#include "metrics/rendered_family.h"
#include "metrics/violations.h"

namespace hostiso {

// What every collector sees during one scrape.
struct ScrapeContext {
  const IsolationSnapshot& isolation;
  ViolationRegistry& violations;
  // The guests' QEMU processes and vCPU threads read once for this scrape
  // (statm, schedstat, stat), shared by the collectors that need them.
  GuestSampler& guests;
  // Storage of the families of an earlier scrape (ExporterCollectable gets
  // them back after the HTTP server wrote them): collectors with thousands of
  // series pass it to their FamilyBuilders. Null: build afresh.
  FamilyPool* families = nullptr;
  // Set when the scrape is served as text (ExporterCollectable::ScrapeText):
  // where AppendRendered puts its slots. Null: Collect().
  std::vector<RenderedSlot>* rendered = nullptr;

  // Appends `family`: served as text, its text written once is copied into
  // the exposition; to Collect(), a copy of its series.
  void AppendRendered(const std::shared_ptr<const RenderedFamily>& family,
                      std::vector<prometheus::MetricFamily>& out) const {
    if (rendered == nullptr) {
      out.push_back(family->family);
      return;
    }
    rendered->push_back(RenderedSlot{out.size(), family});
  }
};

// One source of metrics, listed once in the collector table
// (exporter/collector_table.cc) with its --collector.NAME flag. Collect() is
// called under the exporter's scrape lock, never concurrently with itself. It
// appends the families it could build and returns an Error naming the file or
// source when an input was unreadable, empty or malformed; the exporter then
// sets hostiso_collector_success to 0 and logs the error once per distinct
// error. Series that depend on a failed input are left out, never defaulted.
// It must not block on anything slow: slow sources run on PeriodicWorkers
// (Start/Stop) and Collect() serves their Latest result.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual Expected<void> Collect(
      const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) = 0;
  // Starts background workers; called once, after the exporter confined
  // itself to host-role CPUs (threads inherit the affinity).
  virtual void Start() {}
  // Stops them, waiting at most `grace`; false when one was left behind.
  virtual bool Stop(std::chrono::milliseconds /*grace*/) { return true; }
  // nova.conf or the CPU roles changed (the isolation worker, off the scrape
  // path): a slow source may refresh now instead of at its next interval.
  virtual void ConfigChanged() {}
};

}  // namespace hostiso
