#include "metrics/exporter_collectable.h"

#include <exception>

#include "metrics/family_builder.h"
#include "metrics/log.h"

namespace hostiso {

ExporterCollectable::ExporterCollectable(
    BuildInfo build, std::shared_ptr<IsolationSource> isolation,
    std::vector<std::unique_ptr<Collector>> collectors,
    std::shared_ptr<ViolationRegistry> violations,
    std::size_t max_violation_info)
    : build_(std::move(build)),
      isolation_(std::move(isolation)),
      collectors_(std::move(collectors)),
      violations_(std::move(violations)),
      max_violation_info_(max_violation_info) {}

std::vector<prometheus::MetricFamily> ExporterCollectable::Collect() const {
  std::lock_guard<std::mutex> lock(scrape_mu_);
  std::vector<prometheus::MetricFamily> out;
  out.reserve(48);
  std::shared_ptr<const IsolationSnapshot> iso = isolation_->Refresh();
  ScrapeContext ctx{*iso, *violations_};

  auto success =
      FamilyBuilder::Gauge("hostiso_collector_success",
                           "1 when the collector's last run succeeded.");
  auto duration =
      FamilyBuilder::Gauge("hostiso_collector_duration_seconds",
                           "How long the collector's last run took.");
  for (const auto& collector : collectors_) {
    auto start = std::chrono::steady_clock::now();
    bool ok = false;
    try {
      ok = collector->Collect(ctx, out);
    } catch (const std::exception& e) {
      log::Error("collector threw",
                 {{"collector", collector->Name()}, {"err", e.what()}});
    } catch (...) {
      log::Error("collector threw", {{"collector", collector->Name()}});
    }
    std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    std::string name(collector->Name());
    success.Add({{"collector", name}}, ok ? 1 : 0);
    duration.Add({{"collector", name}}, took.count());
  }
  std::move(success).AppendTo(out);
  std::move(duration).AppendTo(out);

  auto build =
      FamilyBuilder::Gauge("hostiso_build_info",
                           "Version and VCS revision of the running exporter.");
  build.Add({{"version", build_.version}, {"revision", build_.revision}}, 1);
  std::move(build).AppendTo(out);

  auto config_ok = FamilyBuilder::Gauge(
      "hostiso_config_load_success",
      "1 when the configuration source parsed (nova: nova.conf, flag: "
      "--isolation.guest-cpus, kernel_cmdline: /proc/cmdline).");
  if (iso->nova_present || !iso->nova_load_success) {
    config_ok.Add({{"source", "nova"}}, iso->nova_load_success ? 1 : 0);
  }
  if (iso->flag_guest_cpus) config_ok.Add({{"source", "flag"}}, 1);
  config_ok.Add({{"source", "kernel_cmdline"}}, iso->cmdline_ok ? 1 : 0);
  std::move(config_ok).AppendTo(out);

  violations_->AppendMetrics(out, max_violation_info_);
  return out;
}

}  // namespace hostiso
