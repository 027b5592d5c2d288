#include "metrics/headroom/disk_collector.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "metrics/family_builder.h"

namespace hostiso {

struct DiskCollector::State {
  DiskCollectorOptions options;
  NovaSource nova;

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool exited = false;
  bool started = false;
  std::uint64_t requested = 0;  // bumped by each scrape
  std::uint64_t served = 0;     // the request the latest report answers
  std::shared_ptr<const DiskReport> latest;
  std::chrono::steady_clock::time_point taken{};
  std::thread thread;

  void Publish(DiskReport report, std::uint64_t answers) {
    auto p = std::make_shared<const DiskReport>(std::move(report));
    std::lock_guard<std::mutex> lock(mu);
    latest = std::move(p);
    taken = std::chrono::steady_clock::now();
    if (answers > served) served = answers;
    cv.notify_all();
  }

  static void Run(std::shared_ptr<State> s) {
    std::optional<VgMeasurement> vg;
    std::string vg_name;
    std::chrono::steady_clock::time_point last_vgs{};
    while (true) {
      std::uint64_t request;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        if (s->stop) break;
        request = s->requested;
      }
      const DiskPlan plan = PlanDisk(s->nova ? s->nova() : std::nullopt);
      std::vector<std::string> resolver_errors;
      const BlockDeviceResolver resolver =
          MakeResolver(s->options.env, &resolver_errors);
      DiskMeasurements m = MeasureFilesystems(plan, s->options.env, resolver);
      m.errors = resolver_errors;
      if (plan.backend != StorageBackend::kLvm ||
          plan.volume_group != vg_name) {
        vg.reset();
        vg_name = plan.backend == StorageBackend::kLvm ? plan.volume_group : "";
      }
      m.vg = vg;
      s->Publish(EvaluateDisk(plan, m), request);
      const auto now = std::chrono::steady_clock::now();
      if (!vg_name.empty() &&
          (!vg || now - last_vgs >= s->options.vgs_interval)) {
        vg = MeasureVolumeGroup(vg_name, s->options.vgs_binary,
                                s->options.runner, s->options.vgs_timeout,
                                resolver);
        last_vgs = std::chrono::steady_clock::now();
        m.vg = vg;
        s->Publish(EvaluateDisk(plan, m), request);
      }
      std::unique_lock<std::mutex> lock(s->mu);
      s->cv.wait_for(lock, s->options.refresh_interval,
                     [&] { return s->stop || s->requested != request; });
      if (s->stop) break;
    }
    std::lock_guard<std::mutex> lock(s->mu);
    s->exited = true;
    s->cv.notify_all();
  }
};

DiskCollector::DiskCollector(DiskCollectorOptions options, NovaSource nova)
    : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->nova = std::move(nova);
}

DiskCollector::~DiskCollector() { Stop(); }

void DiskCollector::Start() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->started) return;
  state_->started = true;
  state_->thread = std::thread(&State::Run, state_);
}

std::function<void()> DiskCollector::Stopper() {
  std::shared_ptr<State> s = state_;
  return [s] {
    std::unique_lock<std::mutex> lock(s->mu);
    if (!s->started) return;
    s->stop = true;
    s->cv.notify_all();
    const bool done = s->cv.wait_for(lock, std::chrono::seconds(2),
                                     [&] { return s->exited; });
    std::thread t = std::move(s->thread);
    lock.unlock();
    if (!t.joinable()) return;
    if (done) {
      t.join();
    } else {
      // Stuck in statvfs() or similar: the state it uses is shared, so it can
      // finish on its own whenever the system call returns.
      t.detach();
    }
  };
}

void DiskCollector::Stop() { Stopper()(); }

bool DiskCollector::Collect(const ScrapeContext& ctx,
                            std::vector<prometheus::MetricFamily>& out) {
  std::shared_ptr<const DiskReport> report;
  std::chrono::steady_clock::time_point taken;
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    const std::uint64_t mine = ++state_->requested;
    state_->cv.notify_all();
    state_->cv.wait_for(lock, state_->options.scrape_wait, [&] {
      return state_->served >= mine || state_->exited;
    });
    report = state_->latest;
    taken = state_->taken;
  }
  if (!report) {
    // The worker has not finished its first measurement yet (only possible
    // in the first scrape_wait after start): not an error worth a log line.
    log::Debug("disk: no measurement yet");
    return false;
  }
  const auto age = std::chrono::steady_clock::now() - taken;
  if (age > state_->options.stale_after) {
    latch_.Fail(
        "the last measurement is over " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                           state_->options.stale_after)
                           .count()) +
        " s old: the measuring thread is stuck (a hung network filesystem?)");
    return false;
  }

  auto size = FamilyBuilder::Gauge(
      "hostiso_disk_size_bytes",
      "Size of the filesystem (statvfs f_blocks x f_frsize) or volume group "
      "holding each role's storage.");
  auto free = FamilyBuilder::Gauge(
      "hostiso_disk_free_bytes",
      "Free space available to unprivileged writers (statvfs f_bavail, df's "
      "Avail) or volume group free.");
  for (const DiskSeries& s : report->series) {
    const std::string role(DiskRoleName(s.role));
    size.Add({{"role", role}, {"path", s.path}},
             static_cast<double>(s.size_bytes));
    free.Add({{"role", role}, {"path", s.path}},
             static_cast<double>(s.free_bytes));
  }
  std::move(size).AppendTo(out);
  std::move(free).AppendTo(out);
  if (report->reserved_bytes) {
    auto f =
        FamilyBuilder::Gauge("hostiso_disk_reserved_bytes",
                             "reserved_host_disk_mb of nova.conf, in bytes.");
    f.Add({}, *report->reserved_bytes);
    std::move(f).AppendTo(out);
  }
  if (report->headroom_bytes) {
    auto f = FamilyBuilder::Gauge(
        "hostiso_disk_reserve_headroom_bytes",
        "Free instance storage (instances_path filesystem, or the LVM volume "
        "group) - reserved_host_disk_mb.");
    f.Add({}, *report->headroom_bytes);
    std::move(f).AppendTo(out);
  }
  ctx.violations.Report(ViolationKind::kDiskReserveBreach,
                        report->reserve_breaches);
  ctx.violations.Report(ViolationKind::kDiskLayout, report->layout_violations);

  if (!report->errors.empty()) {
    std::string all;
    for (const std::string& e : report->errors)
      all += (all.empty() ? "" : "; ") + e;
    latch_.Fail(all);
    return false;
  }
  latch_.Ok();
  return true;
}

}  // namespace hostiso
