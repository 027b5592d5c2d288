#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "exporter/collector_table.h"
#include "exporter/flags.h"
#include "exporter/http_server.h"
#include "exporter/status_snapshot.h"
#include "metrics/exporter_collectable.h"
#include "metrics/guest_inventory.h"
#include "metrics/isolation_source.h"
#include "metrics/mutex.h"
#include "metrics/violations.h"

namespace hostiso {

// What the status page reads: the holders the collectors already fill. A page
// view reads no kernel file except the CPU layout, and that only when the
// online CPUs changed.
struct StatusPageSources {
  std::string version;
  std::shared_ptr<const Flags> flags;
  std::shared_ptr<IsolationSource> isolation;
  std::shared_ptr<ExporterCollectable> collectable;
  std::shared_ptr<ViolationRegistry> violations;
  std::shared_ptr<GuestInventoryHolder> guests;
  std::shared_ptr<StatusFeeds> feeds;
};

// "/" in the web layer: HTML, or JSON with ?format=json. Thread-safe.
class StatusPage {
 public:
  static constexpr int kRefreshSeconds = 10;

  explicit StatusPage(StatusPageSources sources)
      : sources_(std::move(sources)) {}
  HttpServer::Page Render(std::string_view query) EXCLUDES(mu_);
  StatusSnapshot Snapshot() EXCLUDES(mu_);

 private:
  // The layout of `online` (null with `error` set when unreadable), re-read
  // only when `online` changed.
  std::shared_ptr<const CpuLayout> Layout(const CpuSet& online,
                                          std::string& error) EXCLUDES(mu_);

  const StatusPageSources sources_;
  Mutex mu_;
  CpuSet layout_online_ GUARDED_BY(mu_);
  bool layout_read_ GUARDED_BY(mu_) = false;
  std::shared_ptr<const CpuLayout> layout_ GUARDED_BY(mu_);
  std::string layout_error_ GUARDED_BY(mu_);
};

namespace detail {
// Whether the query string asks for JSON ("format=json" among its
// '&'-separated parameters).
bool WantsJson(std::string_view query);
}  // namespace detail

}  // namespace hostiso
