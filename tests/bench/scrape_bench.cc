// Google Benchmark: one full scrape (collect + text exposition) of the cpu
// and isolation collectors on a generated N-CPU fixture host. The fixture is
// written by tests/fixtures/generate.py into a temp dir (path from the
// HOSTISO_BENCH_FIXTURE environment variable, set by the CMake target).
#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <sstream>

#include "metrics/collectors/cpu_collector.h"
#include "metrics/collectors/isolation_collector.h"
#include "metrics/exporter_collectable.h"
#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

std::string FixtureRoot() {
  const char* root = std::getenv("HOSTISO_BENCH_FIXTURE");
  return root != nullptr ? root : "/tmp/hostiso-bench-256";
}

std::shared_ptr<ExporterCollectable> MakeExporter() {
  IsolationOptions o;
  o.procfs = FixtureRoot() + "/proc";
  o.sysfs = FixtureRoot() + "/sys";
  o.nova_config = FixtureRoot() + "/nova.conf";
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(std::make_unique<CpuCollector>(o.procfs));
  cs.push_back(std::make_unique<IsolationCollector>());
  return std::make_shared<ExporterCollectable>(
      BuildInfo{"bench", "bench"}, std::make_shared<IsolationSource>(o),
      std::move(cs), std::make_shared<ViolationRegistry>(), 100);
}

void BM_CollectOnly(benchmark::State& state) {
  auto exporter = MakeExporter();
  for (auto _ : state) {
    auto families = exporter->Collect();
    benchmark::DoNotOptimize(families);
  }
}
BENCHMARK(BM_CollectOnly)->Unit(benchmark::kMicrosecond);

void BM_FullScrape(benchmark::State& state) {
  auto exporter = MakeExporter();
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = TextExposition::ToString(exporter->Collect()).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["exposition_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_FullScrape)->Unit(benchmark::kMicrosecond);

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
