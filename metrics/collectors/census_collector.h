#pragma once

#include <memory>

#include "metrics/census/census_worker.h"
#include "metrics/collector.h"

namespace hostiso {

// Collector "census": serves the census worker's last result (never walks
// /proc on the scrape path): hostiso_census_{age,duration}_seconds,
// hostiso_census_tasks, hostiso_census_stat_reads,
// hostiso_host_tasks_on_guest_cpus and
// hostiso_intrusion_seconds_total{cpu,comm}.
class CensusCollector : public Collector {
 public:
  explicit CensusCollector(std::shared_ptr<CensusWorker> worker)
      : worker_(std::move(worker)) {}
  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;
  void Start() override { worker_->Start(); }
  // New roles: the next census uses them at once.
  void ConfigChanged() override { worker_->Trigger(); }
  bool Stop(std::chrono::milliseconds grace) override {
    return worker_->Stop(grace);
  }

 private:
  std::shared_ptr<CensusWorker> worker_;
};

}  // namespace hostiso
