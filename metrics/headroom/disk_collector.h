#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "metrics/collector.h"
#include "metrics/headroom/disk_plan.h"
#include "metrics/log.h"

namespace hostiso {

struct DiskCollectorOptions {
  DiskEnvironment env;
  // The filesystems are re-measured when a scrape asks (and at least this
  // often without scrapes); vgs runs at most every vgs_interval.
  std::chrono::milliseconds refresh_interval{15000};
  std::chrono::milliseconds vgs_interval{30000};
  std::chrono::milliseconds vgs_timeout{5000};
  // How long a scrape waits for the measurement it asked for before serving
  // the previous one. statvfs() takes microseconds on a local filesystem; the
  // wait only matters for a hung network filesystem.
  std::chrono::milliseconds scrape_wait{250};
  // Served data older than this fails the collector (the measuring thread is
  // stuck, e.g. in statvfs() on a hard-mounted NFS server that went away).
  std::chrono::milliseconds stale_after{60000};
  std::string vgs_binary = "vgs";
  CommandRunner runner = RunCommand;
};

// hostiso_disk_size_bytes / hostiso_disk_free_bytes {role,path},
// hostiso_disk_reserved_bytes, hostiso_disk_reserve_headroom_bytes, and the
// disk_reserve_breach and disk_layout detectors (rules in disk_plan.h).
//
// Measuring runs on a worker thread, never on the scrape path: statvfs() on a
// dead NFS mount (instances_path is often shared storage) blocks forever, and
// vgs takes tens of milliseconds and needs a timeout. A scrape asks the worker
// for a fresh measurement, waits up to scrape_wait, and serves the latest.
class DiskCollector : public Collector {
 public:
  using NovaSource = std::function<std::optional<NovaConfig>()>;
  DiskCollector(DiskCollectorOptions options, NovaSource nova);
  ~DiskCollector() override;
  DiskCollector(const DiskCollector&) = delete;
  DiskCollector& operator=(const DiskCollector&) = delete;

  void Start();
  // Stops the worker; safe to call more than once. A worker stuck in a
  // system call is left behind (detached) after a short wait.
  void Stop();
  // For the registration's stopper list: keeps the worker's state alive.
  std::function<void()> Stopper();

  std::string_view Name() const override { return "disk"; }
  bool Collect(const ScrapeContext& ctx,
               std::vector<prometheus::MetricFamily>& out) override;

  struct State;

 private:
  std::shared_ptr<State> state_;
  log::ErrorLatch latch_{"measuring disk headroom"};
};

}  // namespace hostiso
