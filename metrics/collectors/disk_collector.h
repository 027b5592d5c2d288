#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "metrics/collector.h"
#include "metrics/headroom/disk_plan.h"
#include "metrics/latest.h"
#include "metrics/periodic_worker.h"

namespace hostiso {

struct DiskCollectorOptions {
  DiskEnvironment env;
  // The filesystems are re-measured this often, and after each scrape and
  // configuration change (at most once a second); vgs runs at most every
  // vgs_interval.
  std::chrono::milliseconds refresh_interval{15000};
  std::chrono::milliseconds vgs_interval{30000};
  std::chrono::milliseconds vgs_timeout{5000};
  // A report older than this fails the collector and its series are left out
  // (the measuring thread is stuck, e.g. in statvfs() on a hard-mounted NFS
  // server that went away).
  std::chrono::milliseconds stale_after{60000};
  std::string vgs_binary = "vgs";
  CommandRunner runner = RunCommand;
};

// hostiso_disk_size_bytes / hostiso_disk_free_bytes {role,path},
// hostiso_disk_reserved_bytes, hostiso_disk_reserve_headroom_bytes, and the
// disk_reserve_breach and disk_layout detectors (rules in disk_plan.h).
//
// Measuring runs on a PeriodicWorker, never on the scrape path: statvfs() on a
// dead NFS mount (instances_path is often shared storage) blocks forever, and
// vgs takes tens of milliseconds and needs a timeout. A scrape serves the
// latest report, never waits, and asks for a fresh one for the next scrape.
class DiskCollector : public Collector {
 public:
  using NovaSource = std::function<std::optional<NovaConfig>()>;
  DiskCollector(DiskCollectorOptions options, NovaSource nova);

  Expected<void> Collect(const ScrapeContext& ctx,
                         std::vector<prometheus::MetricFamily>& out) override;
  void Start() override { worker_.Start(); }
  void ConfigChanged() override { worker_.Trigger(); }
  bool Stop(std::chrono::milliseconds grace) override {
    return worker_.Stop(grace);
  }
  // One measurement on the calling thread (tests).
  void MeasureOnce() { state_->Measure(); }

 private:
  // What the worker thread uses: shared, so a worker left behind in a stuck
  // system call never touches a destroyed collector.
  struct State {
    DiskCollectorOptions options;
    NovaSource nova;
    Latest<DiskReport> latest;
    // Worker-thread only.
    std::optional<VgMeasurement> vg;
    std::string vg_name;
    std::chrono::steady_clock::time_point last_vgs{};
    void Measure();
  };
  std::shared_ptr<State> state_;
  PeriodicWorker worker_;
};

}  // namespace hostiso
