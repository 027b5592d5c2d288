// Google Benchmark: one full scrape (collect + text exposition) of the cpu
// and isolation collectors on a generated N-CPU fixture host, and the same
// with the topology or cgroup collector added (their cost per scrape). The
// fixture is written by tests/fixtures/generate.py into a temp dir (path from
// the HOSTISO_BENCH_FIXTURE environment variable, set by the CMake target).
#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cstdlib>
#include <sstream>

#include "metrics/collectors/cgroup_collector.h"
#include "metrics/collectors/cpu_collector.h"
#include "metrics/collectors/isolation_collector.h"
#include "metrics/collectors/topology_collector.h"
#include "metrics/exporter_collectable.h"
#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

std::string FixtureRoot() {
  const char* root = std::getenv("HOSTISO_BENCH_FIXTURE");
  return root != nullptr ? root : "/tmp/hostiso-bench-256";
}

// With the topology collector too (issue 13: it may add at most 10 % to this
// scrape), as on a host without libvirt and census (their inputs are other
// collectors' cost); kUncached re-reads the CPU layout at every scrape.
enum class Topology { kOff, kCached, kUncached };

// The topology and cgroup collectors keep their per-scrape files open on a
// real sysfs and cgroupfs (KeptKernfsFiles), not on a fixture tree. The
// fixture's files are never replaced while the benchmark runs, so kAlways
// measures what the exporter does on a real host; kNever what it did before.
std::shared_ptr<ExporterCollectable> MakeExporter(
    Topology topology = Topology::kOff, bool with_cgroup = false,
    KeepFiles keep = KeepFiles::kAlways) {
  IsolationOptions o;
  o.paths.procfs = FixtureRoot() + "/proc";
  o.paths.sysfs = FixtureRoot() + "/sys";
  o.nova_config = FixtureRoot() + "/nova.conf";
  auto isolation = std::make_shared<IsolationSource>(o);
  isolation->Reload();
  std::vector<NamedCollector> cs;
  cs.push_back({"cpu", std::make_unique<CpuCollector>(o.paths)});
  cs.push_back({"isolation", std::make_unique<IsolationCollector>()});
  if (topology != Topology::kOff) {
    TopologyOptions t;
    t.paths = o.paths;
    t.guests_enabled = false;
    t.census_enabled = false;
    t.keep_files = keep;
    if (topology == Topology::kUncached)
      t.layout_max_age = std::chrono::seconds(0);
    cs.push_back({"topology", std::make_unique<TopologyCollector>(t, nullptr)});
  }
  if (with_cgroup) {
    // The generated tree's cgroup2 root: machine.slice and the three host
    // slices (tests/fixtures/generate.py write_bench_tree).
    cs.push_back(
        {"cgroup", std::make_unique<CgroupCollector>(CgroupCollectorOptions{
                       FixtureRoot() + "/sys/fs/cgroup",
                       {"system.slice", "user.slice", "init.scope"},
                       keep})});
  }
  ExporterOptions options;
  options.build = {"bench", "bench"};
  // The fixture's collectors only, as node_exporter's cpu collector: the
  // exporter's own process_* families read this process, not the fixture.
  options.exporter_metrics = false;
  return std::make_shared<ExporterCollectable>(
      options, isolation, std::move(cs), std::make_shared<ViolationRegistry>());
}

// One scrape as the HTTP server serves it (exporter/http_server.cc): collect,
// write the text, give the families back for the next scrape to refill.
std::size_t ServeOnce(const ExporterCollectable& exporter) {
  return exporter.ScrapeText().size();
}

void BM_CollectOnly(benchmark::State& state) {
  auto exporter = MakeExporter();
  for (auto _ : state) {
    auto families = exporter->Collect();
    benchmark::DoNotOptimize(families);
  }
}
BENCHMARK(BM_CollectOnly)->Unit(benchmark::kMicrosecond);

// BM_CollectOnly with the topology collector: where its added cost goes
// (collection vs. the text exposition of its series).
void BM_CollectOnlyWithTopology(benchmark::State& state) {
  auto exporter = MakeExporter(Topology::kCached);
  for (auto _ : state) {
    auto families = exporter->Collect();
    benchmark::DoNotOptimize(families);
  }
}
BENCHMARK(BM_CollectOnlyWithTopology)->Unit(benchmark::kMicrosecond);

void BM_FullScrape(benchmark::State& state) {
  auto exporter = MakeExporter();
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = ServeOnce(*exporter);
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["exposition_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_FullScrape)->Unit(benchmark::kMicrosecond);

// BM_FullScrape with the topology collector on: the cached layout, every
// node's meminfo and pools, and the smt_sibling_shared check.
void FullScrape(benchmark::State& state, Topology topology,
                bool with_cgroup = false, KeepFiles keep = KeepFiles::kAlways) {
  auto exporter = MakeExporter(topology, with_cgroup, keep);
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = ServeOnce(*exporter);
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["exposition_bytes"] = static_cast<double>(bytes);
}
void BM_FullScrapeWithTopology(benchmark::State& state) {
  FullScrape(state, Topology::kCached);
}
BENCHMARK(BM_FullScrapeWithTopology)->Unit(benchmark::kMicrosecond);

// The topology collector's Collect() alone (no other collector, no
// exposition): its own reads and checks.
void BM_TopologyCollectOnly(benchmark::State& state) {
  IsolationOptions o;
  o.paths.procfs = FixtureRoot() + "/proc";
  o.paths.sysfs = FixtureRoot() + "/sys";
  o.nova_config = FixtureRoot() + "/nova.conf";
  IsolationSource isolation(o);
  auto snap = isolation.Reload();
  ViolationRegistry violations;
  GuestSampler sampler(o.paths.procfs);
  // Served as text (ScrapeText): the info family is a slot, not a copy.
  std::vector<RenderedSlot> rendered;
  ScrapeContext ctx{*snap, violations, sampler, nullptr, &rendered};
  TopologyOptions t;
  t.paths = o.paths;
  t.guests_enabled = false;
  t.census_enabled = false;
  t.keep_files = KeepFiles::kAlways;  // as on a real sysfs (MakeExporter)
  TopologyCollector collector(t, nullptr);
  for (auto _ : state) {
    std::vector<prometheus::MetricFamily> out;
    rendered.clear();
    benchmark::DoNotOptimize(collector.Collect(ctx, out).ok());
  }
}
BENCHMARK(BM_TopologyCollectOnly)->Unit(benchmark::kMicrosecond);

// The layout re-read at every scrape (3 files x 256 CPUs): what the cache
// saves.
void BM_FullScrapeWithTopologyUncached(benchmark::State& state) {
  FullScrape(state, Topology::kUncached);
}
BENCHMARK(BM_FullScrapeWithTopologyUncached)->Unit(benchmark::kMicrosecond);

// BM_FullScrape plus the cgroup collector: what issue 13's cgroup reads add.
void BM_FullScrapeWithCgroup(benchmark::State& state) {
  FullScrape(state, Topology::kOff, /*with_cgroup=*/true);
}
BENCHMARK(BM_FullScrapeWithCgroup)->Unit(benchmark::kMicrosecond);

// Both of issue 13's collectors at once: what its reads add together.
void BM_FullScrapeWithTopologyAndCgroup(benchmark::State& state) {
  FullScrape(state, Topology::kCached, /*with_cgroup=*/true);
}
BENCHMARK(BM_FullScrapeWithTopologyAndCgroup)->Unit(benchmark::kMicrosecond);

// The same, their files opened, read and closed at every scrape (as on a
// fixture tree): what keeping them open saves.
void BM_FullScrapeWithTopologyAndCgroupReopened(benchmark::State& state) {
  FullScrape(state, Topology::kCached, /*with_cgroup=*/true, KeepFiles::kNever);
}
BENCHMARK(BM_FullScrapeWithTopologyAndCgroupReopened)
    ->Unit(benchmark::kMicrosecond);

// The cgroup collector's Collect() alone (its reads, parsing, detectors and
// families) with the isolation snapshot of the 256-CPU tree: the absolute
// cost BM_FullScrapeWithCgroup adds, without the noise of a whole scrape.
void BM_CgroupCollectorOnly(benchmark::State& state) {
  IsolationOptions o;
  o.paths.procfs = FixtureRoot() + "/proc";
  o.paths.sysfs = FixtureRoot() + "/sys";
  o.nova_config = FixtureRoot() + "/nova.conf";
  auto snapshot = IsolationSource(o).Reload();
  ViolationRegistry violations;
  GuestSampler sampler(o.paths.procfs);
  CgroupCollector collector(
      CgroupCollectorOptions{FixtureRoot() + "/sys/fs/cgroup",
                             {"system.slice", "user.slice", "init.scope"},
                             KeepFiles::kAlways});
  for (auto _ : state) {
    std::vector<prometheus::MetricFamily> out;
    ScrapeContext ctx{*snapshot, violations, sampler};
    auto ok = collector.Collect(ctx, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_CgroupCollectorOnly)->Unit(benchmark::kMicrosecond);

// The same scrape serialized by prometheus-cpp's own TextSerializer, kept to
// show why TextExposition exists.
void BM_FullScrapePrometheusCppSerializer(benchmark::State& state) {
  auto exporter = MakeExporter();
  for (auto _ : state) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, exporter->Collect());
    benchmark::DoNotOptimize(out.str().size());
  }
}
BENCHMARK(BM_FullScrapePrometheusCppSerializer)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hostiso

BENCHMARK_MAIN();
