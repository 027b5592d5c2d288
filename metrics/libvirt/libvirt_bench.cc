// Benchmarks for the libvirt component (issue 3):
//  - BM_Refresh: one worker refresh over N domains x 8 vCPUs served by
//    libvirt's test driver (node XML generated here, with Nova metadata,
//    vcpupin, emulatorpin). Measures our per-domain calls and XML parsing;
//    the test driver is in-process, so a real libvirtd adds RPC cost.
//  - BM_Scrape: one scrape (LibvirtCollector::Collect + TextSerializer) with
//    N domains x 8 vCPUs whose QEMU pids and vCPU threads live in a generated
//    fake procfs (statm, task/TID/schedstat, task/TID/stat read per scrape).
//  - BM_ScrapeBulk: the same without thread ids (libvirt bulk-stats path).
// Usage: hostiso_libvirt_bench [--domains=500] [benchmark flags]
#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>

#include "metrics/collectors/libvirt_collector.h"
#include "metrics/libvirt/libvirt_source.h"

namespace hostiso {
namespace {

namespace fs = std::filesystem;
int g_domains = 500;
constexpr int kVcpus = 8;
std::string g_dir;

void WriteFile(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

std::string DomainName(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "instance-%08x", i + 1);
  return name;
}

std::string NodeXml(int n) {
  // 2 sockets x 32 cores x 2 threads = 128 CPUs; host 0-7, guests 8-127.
  std::string x =
      "<node><cpu><mhz>2000</mhz><model>x86_64</model><active>128</"
      "active><nodes>2</nodes>"
      "<sockets>2</sockets><cores>32</cores><threads>2</threads></"
      "cpu><memory>1073741824</memory>";
  for (int i = 0; i < n; ++i) {
    x += "<domain type='test'><name>" + DomainName(i) + "</name>";
    x += "<metadata><nova:instance "
         "xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
         "<nova:name>server-" +
         std::to_string(i) +
         "</nova:name><nova:flavor "
         "name='m1.xlarge'><nova:vcpus>8</nova:vcpus></nova:flavor>"
         "<nova:owner><nova:user uuid='u'>user</nova:user><nova:project "
         "uuid='p" +
         std::to_string(i % 17) + "'>project-" + std::to_string(i % 17) +
         "</nova:project></nova:owner></nova:instance></metadata>";
    x += "<memory unit='MiB'>1024</memory><vcpu>8</vcpu><cputune>";
    for (int v = 0; v < kVcpus; ++v)
      x += "<vcpupin vcpu='" + std::to_string(v) + "' cpuset='" +
           (i % 2 == 0 ? std::to_string(8 + (i * kVcpus + v) % 120)
                       : std::string("8-127")) +
           "'/>";
    x += "<emulatorpin "
         "cpuset='0-7'/></cputune><os><type>hvm</type></os></domain>";
  }
  return x + "</node>";
}

std::string Stat(int tid, int cpu) {
  std::string s = std::to_string(tid) + " (CPU 0/KVM) S";
  for (int f = 4; f <= 38; ++f) s += " 0";
  return s + " " + std::to_string(cpu) + " 0 0 0 0 0\n";
}

struct Fixture {
  std::string uri;
  std::string procfs;
  std::shared_ptr<const LibvirtSnapshot> with_tids, without_tids;
  IsolationSnapshot iso;
};
Fixture* g_fix = nullptr;

void Setup() {
  static Fixture fix;
  char tmpl[] = "/tmp/hostiso-libvirt-bench-XXXXXX";
  g_dir = ::mkdtemp(tmpl);
  WriteFile(g_dir + "/node.xml", NodeXml(g_domains));
  fix.uri = "test://" + g_dir + "/node.xml";
  fix.procfs = g_dir + "/proc";
  WriteFile(fix.procfs + "/meminfo", "MemTotal:  1073741824 kB\n");

  detail::InitLibvirtOnce();
  virConnectPtr conn = virConnectOpenReadOnly(fix.uri.c_str());
  if (conn == nullptr) {
    std::cerr << "cannot open " << fix.uri << ": " << detail::LastLibvirtError()
              << "\n";
    std::exit(1);
  }
  LibvirtOptions o;
  o.uri = fix.uri;
  o.run_dir = "";
  o.procfs = fix.procfs;
  auto snap = detail::RefreshDomains(
      conn, o, std::chrono::steady_clock::now() + std::chrono::minutes(5));
  virConnectClose(conn);
  if (!snap) {
    std::cerr << "refresh failed: " << snap.error() << "\n";
    std::exit(1);
  }
  // Give every domain a QEMU pid and vCPU threads in the fake procfs.
  auto inv = std::make_shared<GuestInventory>(*snap->inventory);
  auto bare = std::make_shared<GuestInventory>(*snap->inventory);
  int pid = 10000;
  for (auto& d : inv->domains) {
    d.qemu_pid = pid;
    std::string pdir = fix.procfs + "/" + std::to_string(pid);
    WriteFile(pdir + "/statm", "1000000 262144 1000 1 0 300000 0\n");
    for (auto& v : d.vcpus) {
      v.tid = pid + 1 + v.index;
      std::string tdir = pdir + "/task/" + std::to_string(v.tid);
      WriteFile(tdir + "/schedstat", "123456789012 3456789012 98765\n");
      WriteFile(tdir + "/stat", Stat(v.tid, 8 + v.tid % 120));
    }
    pid += 16;
  }
  auto s1 = std::make_shared<LibvirtSnapshot>();
  s1->inventory = inv;
  s1->taken = std::chrono::steady_clock::now();
  fix.with_tids = s1;
  auto s2 = std::make_shared<LibvirtSnapshot>();
  s2->inventory = bare;
  for (const auto& d : bare->domains)
    for (const auto& v : d.vcpus)
      s2->bulk[d.name][v.index] = VcpuBulkStats{123456789012ULL, 3456789012ULL};
  s2->taken = s1->taken;
  fix.without_tids = s2;

  fix.iso.guest_sets.source = GuestSetSource::kFlag;
  fix.iso.guest_sets.legacy = *ParseCpuList("8-127");
  fix.iso.roles = CpuRoles(fix.iso.guest_sets, *ParseCpuList("0-127"));
  g_fix = &fix;
}

void BM_Refresh(benchmark::State& state) {
  virConnectPtr conn = virConnectOpenReadOnly(g_fix->uri.c_str());
  LibvirtOptions o;
  o.uri = g_fix->uri;
  o.run_dir = "";
  o.procfs = g_fix->procfs;
  std::size_t domains = 0;
  for (auto _ : state) {
    auto snap = detail::RefreshDomains(
        conn, o, std::chrono::steady_clock::now() + std::chrono::minutes(1));
    if (!snap)
      state.SkipWithError(snap.error().c_str());
    else
      domains = snap->inventory->domains.size();
  }
  virConnectClose(conn);
  state.counters["domains"] = static_cast<double>(domains);
}

void Scrape(benchmark::State& state,
            std::shared_ptr<const LibvirtSnapshot> snap) {
  LibvirtStatus st;
  st.up = true;
  st.last_good = std::move(snap);
  LibvirtCollector c([&] { return st; }, 30);
  GuestSampler sampler(g_fix->procfs);
  ViolationRegistry reg;
  prometheus::TextSerializer ser;
  std::size_t bytes = 0, series = 0;
  for (auto _ : state) {
    std::vector<prometheus::MetricFamily> out;
    sampler.Reset();
    ScrapeContext ctx{g_fix->iso, reg, sampler};
    c.Collect(ctx, out);
    std::string text = ser.Serialize(out);
    bytes = text.size();
    series = 0;
    for (const auto& f : out) series += f.metric.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_Scrape(benchmark::State& state) { Scrape(state, g_fix->with_tids); }
void BM_ScrapeBulk(benchmark::State& state) {
  Scrape(state, g_fix->without_tids);
}

BENCHMARK(BM_Refresh)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Scrape)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScrapeBulk)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hostiso

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--domains=", 0) == 0) {
      hostiso::g_domains = std::atoi(a.c_str() + 10);
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  hostiso::Setup();
  std::cerr << "fixture: " << hostiso::g_domains << " domains x "
            << hostiso::kVcpus << " vCPUs in " << hostiso::g_dir << "\n";
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(hostiso::g_dir);
  return 0;
}
