#pragma once

#include <prometheus/collectable.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "metrics/collector.h"
#include "metrics/guest_sample.h"
#include "metrics/isolation_source.h"
#include "metrics/log.h"
#include "metrics/mutex.h"
#include "metrics/process_metrics.h"
#include "metrics/violations.h"

namespace hostiso {

struct BuildInfo {
  std::string version;
  std::string revision;
};

// One enabled collector, named as in the collector table.
struct NamedCollector {
  std::string name;
  std::unique_ptr<Collector> collector;
};

// A collector's last run, for the status page.
struct CollectorStatus {
  std::string name;
  bool ran = false;  // no scrape yet
  bool success = false;
  double duration_seconds = 0;
  std::string error;  // of the last run; empty on success
  std::chrono::system_clock::time_point at{};
};

struct ExporterOptions {
  BuildInfo build;
  std::size_t max_violation_info = 100;
  // process_* and hostiso_exporter_build_info (--web.disable-exporter-metrics
  // turns them off, as in node_exporter).
  bool exporter_metrics = true;
  // Other configuration sources for hostiso_config_load_success{source}
  // (e.g. "web_config"): name -> whether its last load succeeded.
  std::vector<std::pair<std::string, std::function<bool()>>> config_sources;
};

// The one prometheus::Collectable the HTTP server serves. Each scrape:
// re-reads the kernel's isolation state (never nova.conf), runs every enabled
// collector (timing each, catching anything it throws, logging each distinct
// error once), expires stale violations, then appends the self-metrics and
// the violation families. Scrapes are serialized: collectors keep counter
// state.
class ExporterCollectable : public prometheus::Collectable {
 public:
  ExporterCollectable(ExporterOptions options,
                      std::shared_ptr<IsolationSource> isolation,
                      std::vector<NamedCollector> collectors,
                      std::shared_ptr<ViolationRegistry> violations);

  std::vector<prometheus::MetricFamily> Collect() const override;
  // One scrape as the HTTP server serves it: the text of Collect()'s
  // families (byte for byte), with RenderedFamilies' text written once
  // rather than at every scrape; the families are then given back for the
  // next scrape's FamilyBuilders to refill in place (FamilyPool).
  std::string ScrapeText() const;
  std::vector<CollectorStatus> Statuses() const EXCLUDES(status_mu_);
  // Starts the collectors' workers; stops them, each within `grace`. false
  // when a worker was left behind.
  void StartCollectors();
  bool StopCollectors(std::chrono::milliseconds grace);
  // Tells every collector that nova.conf or the roles changed.
  void ConfigChanged();

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<Collector> collector;
    log::ErrorLatch latch;
  };
  // Collect(), with RenderedFamilies as slots into `rendered` when set.
  std::vector<prometheus::MetricFamily> CollectFamilies(
      std::vector<RenderedSlot>* rendered) const;
  void RunCollectors(const ScrapeContext& ctx,
                     std::vector<prometheus::MetricFamily>& out) const
      REQUIRES(scrape_mu_);
  void AppendSelfMetrics(const IsolationSnapshot& iso,
                         std::vector<prometheus::MetricFamily>& out) const;

  ExporterOptions options_;
  std::shared_ptr<IsolationSource> isolation_;
  std::shared_ptr<ViolationRegistry> violations_;
  ProcessMetrics process_;
  mutable Mutex scrape_mu_;
  mutable std::vector<Entry> entries_ GUARDED_BY(scrape_mu_);
  mutable GuestSampler sampler_ GUARDED_BY(scrape_mu_);
  mutable FamilyPool pool_;
  mutable Mutex status_mu_;
  mutable std::vector<CollectorStatus> statuses_ GUARDED_BY(status_mu_);
};

}  // namespace hostiso
