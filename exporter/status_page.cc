#include "exporter/status_page.h"

#include <utility>

#include "exporter/status_html.h"
#include "exporter/status_json.h"
#include "metrics/text.h"

namespace hostiso {

namespace detail {
bool WantsJson(std::string_view query) {
  for (std::string_view param : Split(query, '&'))
    if (param == "format=json") return true;
  return false;
}
}  // namespace detail

std::shared_ptr<const CpuLayout> StatusPage::Layout(const CpuSet& online,
                                                    std::string& error) {
  MutexLock lock(mu_);
  if (!layout_read_ || !(layout_online_ == online)) {
    // topology/* and node/nodeN/cpulist: about three small reads per CPU,
    // worth caching across page views (the online set rarely changes).
    auto layout =
        ReadCpuLayout(sources_.isolation->Options().paths.sysfs, online);
    layout_read_ = true;
    layout_online_ = online;
    if (layout) {
      layout_ = std::make_shared<const CpuLayout>(std::move(layout).value());
      layout_error_.clear();
    } else {
      layout_.reset();
      layout_error_ = layout.error();
    }
  }
  error = layout_error_;
  return layout_;
}

StatusSnapshot StatusPage::Snapshot() {
  const Flags& flags = *sources_.flags;
  const auto iso = sources_.isolation->Current();
  StatusInputs in;
  in.version = sources_.version;
  in.telemetry_path = flags.telemetry_path;
  in.procfs = flags.procfs;
  in.sysfs = flags.sysfs;
  in.isolation = iso.get();
  const auto layout = Layout(iso->topology.online, in.layout_error);
  in.layout = layout.get();
  in.shares = sources_.feeds->cpu_shares->Get();
  if (sources_.feeds->census) in.census = sources_.feeds->census->Last();
  in.inventory = sources_.guests->Current();
  // A scrape drops violations older than their kind's max age before serving
  // them; so does the page.
  sources_.violations->ExpireStale();
  for (std::size_t k = 0; k < kViolationKindCount; ++k) {
    const auto kind = static_cast<ViolationKind>(k);
    auto now = sources_.violations->Current(kind);
    if (!now.empty()) in.violations.emplace_back(kind, std::move(now));
  }
  for (const CollectorSpec& spec : CollectorTable()) {
    const std::string name(spec.name);
    in.collectors.emplace_back(name, flags.collectors.count(name) > 0);
  }
  in.statuses = sources_.collectable->Statuses();
  in.now_steady = std::chrono::steady_clock::now();
  in.now_system = std::chrono::system_clock::now();
  return BuildStatusSnapshot(in);
}

HttpServer::Page StatusPage::Render(std::string_view query) {
  const StatusSnapshot snapshot = Snapshot();
  if (detail::WantsJson(query))
    return {"application/json; charset=utf-8", RenderStatusJson(snapshot)};
  return {"text/html; charset=utf-8",
          RenderStatusHtml(snapshot, kRefreshSeconds)};
}

}  // namespace hostiso
