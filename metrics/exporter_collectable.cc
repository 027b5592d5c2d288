#include "metrics/exporter_collectable.h"

#include <exception>

#include "metrics/family_builder.h"
#include "metrics/text_exposition.h"

namespace hostiso {

ExporterCollectable::ExporterCollectable(
    ExporterOptions options, std::shared_ptr<IsolationSource> isolation,
    std::vector<NamedCollector> collectors,
    std::shared_ptr<ViolationRegistry> violations)
    : options_(std::move(options)),
      isolation_(std::move(isolation)),
      violations_(std::move(violations)),
      sampler_(isolation_->Options().paths.procfs) {
  MutexLock lock(scrape_mu_);
  MutexLock status_lock(status_mu_);
  for (NamedCollector& c : collectors) {
    statuses_.push_back(CollectorStatus{c.name, false, false, 0, "", {}});
    entries_.push_back(Entry{c.name, std::move(c.collector),
                             log::ErrorLatch("collector " + c.name)});
  }
}

void ExporterCollectable::StartCollectors() {
  MutexLock lock(scrape_mu_);
  for (Entry& e : entries_) e.collector->Start();
}

bool ExporterCollectable::StopCollectors(std::chrono::milliseconds grace) {
  // Not under the scrape lock: a scrape in progress finishes on its own, and
  // stopping must not wait behind it.
  bool all = true;
  std::vector<Collector*> collectors;
  {
    MutexLock lock(scrape_mu_);
    for (Entry& e : entries_) collectors.push_back(e.collector.get());
  }
  for (Collector* c : collectors) all = c->Stop(grace) && all;
  return all;
}

void ExporterCollectable::ConfigChanged() {
  std::vector<Collector*> collectors;
  {
    MutexLock lock(scrape_mu_);
    for (Entry& e : entries_) collectors.push_back(e.collector.get());
  }
  for (Collector* c : collectors) c->ConfigChanged();
}

std::vector<CollectorStatus> ExporterCollectable::Statuses() const {
  MutexLock lock(status_mu_);
  return statuses_;
}

void ExporterCollectable::RunCollectors(
    const ScrapeContext& ctx,
    std::vector<prometheus::MetricFamily>& out) const {
  auto success =
      FamilyBuilder::Gauge("hostiso_collector_success",
                           "1 when the collector's last run succeeded.");
  auto duration =
      FamilyBuilder::Gauge("hostiso_collector_duration_seconds",
                           "How long the collector's last run took.");
  std::vector<CollectorStatus> statuses;
  for (Entry& e : entries_) {
    const auto start = std::chrono::steady_clock::now();
    Expected<void> result = Ok();
    try {
      result = e.collector->Collect(ctx, out);
    } catch (const std::exception& ex) {
      result = Error(std::string("threw: ") + ex.what());
    } catch (...) {
      result = Error("threw an unknown exception");
    }
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (result) {
      e.latch.Ok();
    } else {
      e.latch.Fail(result.error());
    }
    success.Add({{"collector", e.name}}, result ? 1 : 0);
    duration.Add({{"collector", e.name}}, took);
    statuses.push_back(CollectorStatus{e.name, true, result.ok(), took,
                                       result ? "" : result.error(),
                                       std::chrono::system_clock::now()});
  }
  std::move(success).AppendTo(out);
  std::move(duration).AppendTo(out);
  MutexLock lock(status_mu_);
  statuses_ = std::move(statuses);
}

void ExporterCollectable::AppendSelfMetrics(
    const IsolationSnapshot& iso,
    std::vector<prometheus::MetricFamily>& out) const {
  auto build =
      FamilyBuilder::Gauge("hostiso_build_info",
                           "Version and VCS revision of the running exporter.");
  build.Add({{"version", options_.build.version},
             {"revision", options_.build.revision}},
            1);
  std::move(build).AppendTo(out);
  if (options_.exporter_metrics) {
    auto exporter_build = FamilyBuilder::Gauge(
        "hostiso_exporter_build_info",
        "Version and VCS revision of the running exporter (the name "
        "dashboards of other exporters look for).");
    exporter_build.Add({{"version", options_.build.version},
                        {"revision", options_.build.revision}},
                       1);
    std::move(exporter_build).AppendTo(out);
    // A failure here is logged by no collector: the families are simply
    // left out (ProcessMetrics reads only this process's /proc/self).
    (void)process_.Append(out);
  }

  auto config_ok = FamilyBuilder::Gauge(
      "hostiso_config_load_success",
      "1 when the configuration source loaded (nova: nova.conf, flag: "
      "--isolation.guest-cpus, kernel_cmdline: /proc/cmdline, web_config: "
      "--web.config.file).");
  if (iso.nova_present || !iso.nova_load_success) {
    config_ok.Add({{"source", "nova"}}, iso.nova_load_success ? 1 : 0);
  }
  if (iso.flag_guest_cpus) config_ok.Add({{"source", "flag"}}, 1);
  config_ok.Add({{"source", "kernel_cmdline"}}, iso.cmdline_ok ? 1 : 0);
  for (const auto& [name, ok] : options_.config_sources)
    config_ok.Add({{"source", name}}, ok() ? 1 : 0);
  std::move(config_ok).AppendTo(out);
}

std::vector<prometheus::MetricFamily> ExporterCollectable::Collect() const {
  return CollectFamilies(nullptr);
}

std::string ExporterCollectable::ScrapeText() const {
  std::vector<RenderedSlot> rendered;
  std::vector<prometheus::MetricFamily> families = CollectFamilies(&rendered);
  std::string text = TextExposition::ToString(families, rendered);
  pool_.GiveBack(std::move(families));
  return text;
}

std::vector<prometheus::MetricFamily> ExporterCollectable::CollectFamilies(
    std::vector<RenderedSlot>* rendered) const {
  MutexLock lock(scrape_mu_);
  std::vector<prometheus::MetricFamily> out;
  out.reserve(64);
  std::shared_ptr<const IsolationSnapshot> iso =
      isolation_->RefreshKernelState();
  sampler_.Reset();
  ScrapeContext ctx{*iso, *violations_, sampler_, &pool_, rendered};
  RunCollectors(ctx, out);
  AppendSelfMetrics(*iso, out);
  violations_->ExpireStale();
  violations_->AppendMetrics(out, options_.max_violation_info);
  return out;
}

}  // namespace hostiso
