#include "metrics/collectors/disk_collector.h"

#include "metrics/family_builder.h"

namespace hostiso {
namespace {

void AppendReport(const DiskReport& report,
                  std::vector<prometheus::MetricFamily>& out) {
  auto size = FamilyBuilder::Gauge(
      "hostiso_disk_size_bytes",
      "Size of the filesystem (statvfs f_blocks x f_frsize) or volume group "
      "holding each role's storage.");
  auto free = FamilyBuilder::Gauge(
      "hostiso_disk_free_bytes",
      "Free space available to unprivileged writers (statvfs f_bavail, df's "
      "Avail) or volume group free.");
  for (const DiskSeries& s : report.series) {
    const std::string role(DiskRoleName(s.role));
    size.Add({{"role", role}, {"path", s.path}},
             static_cast<double>(s.size_bytes));
    free.Add({{"role", role}, {"path", s.path}},
             static_cast<double>(s.free_bytes));
  }
  std::move(size).AppendTo(out);
  std::move(free).AppendTo(out);
  if (report.reserved_bytes) {
    FamilyBuilder::AppendGauge(out, "hostiso_disk_reserved_bytes",
                               "reserved_host_disk_mb of nova.conf, in bytes.",
                               *report.reserved_bytes);
  }
  if (report.headroom_bytes) {
    FamilyBuilder::AppendGauge(
        out, "hostiso_disk_reserve_headroom_bytes",
        "Free instance storage (instances_path filesystem, or the LVM volume "
        "group) - reserved_host_disk_mb.",
        *report.headroom_bytes);
  }
}

}  // namespace

void DiskCollector::State::Measure() {
  const DiskPlan plan = PlanDisk(nova ? nova() : std::nullopt);
  // Without mountinfo, devices that sysfs does not know stay unresolved; the
  // filesystems are still measured and the error is reported.
  Expected<std::vector<MountInfoEntry>> mounts = ReadMountInfo(options.env);
  const BlockDeviceResolver resolver(
      options.env.sysfs, mounts ? *mounts : std::vector<MountInfoEntry>());
  DiskMeasurements m = MeasureFilesystems(plan, options.env, resolver);
  if (!mounts) m.errors.push_back(mounts.error());
  const std::string wanted_vg =
      plan.backend == StorageBackend::kLvm ? plan.volume_group : "";
  if (wanted_vg != vg_name) {
    vg.reset();
    vg_name = wanted_vg;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!vg_name.empty() && (!vg || now - last_vgs >= options.vgs_interval)) {
    // Publish the filesystems first: vgs may take up to its timeout.
    m.vg = vg;
    latest.Publish(EvaluateDisk(plan, m));
    vg = MeasureVolumeGroup(vg_name, options.vgs_binary, options.runner,
                            options.vgs_timeout, resolver);
    last_vgs = std::chrono::steady_clock::now();
  }
  m.vg = vg;
  latest.Publish(EvaluateDisk(plan, m));
}

DiskCollector::DiskCollector(DiskCollectorOptions options, NovaSource nova)
    : state_(std::make_shared<State>()),
      // Scrapes and configuration changes trigger a measurement; at most
      // one a second.
      worker_(
          "disk",
          [state = state_] {
            state->Measure();
            return std::chrono::duration_cast<PeriodicWorker::Clock::duration>(
                state->options.refresh_interval);
          },
          std::chrono::seconds(1)) {
  state_->options = std::move(options);
  state_->nova = std::move(nova);
}

Expected<void> DiskCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  const auto latest = state_->latest.Get();
  // Ask for a fresh measurement for the next scrape; this one never waits.
  worker_.Trigger();
  // Not measured yet: only in the first moments after start.
  if (!latest.value) return Error("no disk measurement yet");
  const double age = *latest.AgeSeconds();
  const double stale_after =
      std::chrono::duration<double>(state_->options.stale_after).count();
  if (age > stale_after) {
    return Error("the last disk measurement is " +
                 std::to_string(static_cast<long>(age)) +
                 " s old: the measuring thread is stuck (a hung network "
                 "filesystem?)");
  }
  const DiskReport& report = *latest.value;
  AppendReport(report, out);
  ctx.violations.Report(ViolationKind::kDiskReserveBreach,
                        report.reserve_breaches);
  ctx.violations.Report(ViolationKind::kDiskLayout, report.layout_violations);
  if (!report.errors.empty()) {
    std::string all;
    for (const std::string& e : report.errors)
      all += (all.empty() ? "" : "; ") + e;
    return Error(all);
  }
  return Ok();
}

}  // namespace hostiso
