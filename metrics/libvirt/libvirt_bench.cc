// Benchmarks for the libvirt component (issue 3):
//  - BM_Refresh: one worker refresh over N domains x 8 vCPUs served by
//    libvirt's test driver (node XML generated here, with Nova metadata,
//    vcpupin, emulatorpin). Measures our per-domain calls and XML parsing;
//    the test driver is in-process, so a real libvirtd adds RPC cost.
//  - BM_BareLoop / BM_BareLoopAt: the floor (issue 10): a plain C loop that
//    reads the minimum the vCPU series need, per vCPU thread its schedstat,
//    plus its stat only when it may run on several CPUs (a vCPU pinned to
//    one CPU can only be there), parsing just run time, delay and field 39.
//    BM_BareLoop opens absolute paths; BM_BareLoopAt opens relative to one
//    task dirfd per process (fewer path components walked).
//  - BM_SampleGuests: the exporter's reader alone (SampleGuests: also one
//    statm per QEMU process).
//  - BM_Scrape: one scrape (LibvirtCollector::Collect + TextExposition, the
//    families then given back to a FamilyPool as the HTTP server does; after
//    one warm-up scrape, as in a running exporter) with
//    N domains x 8 vCPUs whose QEMU pids and vCPU threads live in a generated
//    fake procfs (statm, task/TID/schedstat, task/TID/stat read per scrape).
//  - BM_ScrapeKeptFiles: BM_Scrape with the per-task files kept open
//    across scrapes, as the exporter does on a real procfs.
//  - BM_ScrapeBulk: the same without thread ids (libvirt bulk-stats path).
//  - BM_ScrapeText: the text exposition of BM_Scrape's families alone.
// Fixture mix: --pinned-percent (default 75) of the domains have every vCPU
// pinned 1:1 to one host CPU (Nova's hw:cpu_policy=dedicated); the others
// float over all guest CPUs 8-127 (shared policy).
// Usage: hostiso_libvirt_bench [--domains=500] [--pinned-percent=75]
//        [benchmark flags]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>

#include "metrics/collectors/libvirt_collector.h"
#include "metrics/guest_sample.h"
#include "metrics/libvirt/libvirt_source.h"
#include "metrics/procfs/kept_files.h"
#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

namespace fs = std::filesystem;
int g_domains = 500;
int g_pinned_percent = 75;
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

// Domain i has its vCPUs pinned 1:1 (dedicated) or floating (shared).
bool DomainPinned(int i) { return i % 100 < g_pinned_percent; }
int PinnedCpu(int domain, int vcpu) {
  return 8 + (domain * kVcpus + vcpu) % 120;
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
           (DomainPinned(i) ? std::to_string(PinnedCpu(i, v))
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

// What the bare loop knows before it reads: the thread, and its one CPU when
// pinned (-1 when it may run on several).
struct BareVcpu {
  int pid;
  int tid;
  int pinned_cpu;
};
// What it must produce, exact at every pass.
struct BareResult {
  std::uint64_t run_ns = 0;
  std::uint64_t delay_ns = 0;
  int cpu = -1;
};

struct Fixture {
  std::string uri;
  std::string procfs;
  std::vector<BareVcpu> bare;
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
      // A pinned vCPU's stat names its one CPU; a floating one any guest CPU.
      const int cpu = v.affinity.Count() == 1 ? v.affinity.Members().front()
                                              : 8 + v.tid % 120;
      WriteFile(tdir + "/stat", Stat(v.tid, cpu));
    }
    for (const auto& v : d.vcpus)
      fix.bare.push_back(
          {d.qemu_pid, v.tid,
           v.affinity.Count() == 1 ? v.affinity.Members().front() : -1});
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

// The bare loop's reads: open, one read, close; no allocation.
ssize_t BareRead(int dirfd, const char* path, char* buf, std::size_t cap) {
  int fd = ::openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = ::read(fd, buf, cap - 1);
  ::close(fd);
  if (n >= 0) buf[n] = '\0';
  return n;
}

// /proc/PID/task/TID/schedstat: "run_ns delay_ns timeslices".
bool BareSchedstat(const char* buf, BareResult& r) {
  char* end = nullptr;
  r.run_ns = std::strtoull(buf, &end, 10);
  if (end == buf) return false;
  const char* p = end;
  r.delay_ns = std::strtoull(p, &end, 10);
  return end != p;
}

// /proc/PID/task/TID/stat field 39 (processor), counted after the last ')'.
int BareStatCpu(const char* buf) {
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  int field = 2;
  for (++p; *p != '\0'; ++p)
    if (*p == ' ' && ++field == 39) return std::atoi(p + 1);
  return -1;
}

// One vCPU: schedstat always, stat only when not pinned to one CPU.
void BareVcpuRead(int dirfd, const char* schedstat, const char* stat,
                  const BareVcpu& v, BareResult& r, std::size_t& stat_reads) {
  char buf[512];
  if (BareRead(dirfd, schedstat, buf, sizeof buf) > 0) BareSchedstat(buf, r);
  r.cpu = v.pinned_cpu;
  if (r.cpu >= 0) return;
  ++stat_reads;
  if (BareRead(dirfd, stat, buf, sizeof buf) > 0) r.cpu = BareStatCpu(buf);
}

// User and system CPU time per iteration (getrusage RUSAGE_THREAD), as
// counters user_ms and sys_ms: the bare loop's time is nearly all in the
// kernel, so the split says on which side a scrape's extra time is.
class CpuSplit {
 public:
  explicit CpuSplit(benchmark::State& state) : state_(state) {
    getrusage(RUSAGE_THREAD, &start_);
  }
  CpuSplit(const CpuSplit&) = delete;
  CpuSplit& operator=(const CpuSplit&) = delete;
  ~CpuSplit() {
    rusage end{};
    getrusage(RUSAGE_THREAD, &end);
    auto ms = [](const timeval& a, const timeval& b) {
      return static_cast<double>(b.tv_sec - a.tv_sec) * 1e3 +
             static_cast<double>(b.tv_usec - a.tv_usec) / 1e3;
    };
    state_.counters["user_ms"] = benchmark::Counter(
        ms(start_.ru_utime, end.ru_utime), benchmark::Counter::kAvgIterations);
    state_.counters["sys_ms"] = benchmark::Counter(
        ms(start_.ru_stime, end.ru_stime), benchmark::Counter::kAvgIterations);
  }

 private:
  benchmark::State& state_;
  rusage start_{};
};

void BareCounters(benchmark::State& state, std::size_t stat_reads,
                  const std::vector<BareResult>& results) {
  std::uint64_t sum = 0;
  for (const auto& r : results) sum += r.run_ns + r.delay_ns + r.cpu;
  benchmark::DoNotOptimize(sum);
  state.counters["vcpus"] = static_cast<double>(results.size());
  state.counters["stat_reads"] = static_cast<double>(stat_reads);
}

// Absolute paths, as a naive C program would open them.
void BM_BareLoop(benchmark::State& state) {
  const std::vector<BareVcpu>& vcpus = g_fix->bare;
  std::vector<BareResult> results(vcpus.size());
  std::size_t stat_reads = 0;
  const char* procfs = g_fix->procfs.c_str();
  for (auto _ : state) {
    stat_reads = 0;
    for (std::size_t i = 0; i < vcpus.size(); ++i) {
      char ss[256], st[256];
      std::snprintf(ss, sizeof ss, "%s/%d/task/%d/schedstat", procfs,
                    vcpus[i].pid, vcpus[i].tid);
      std::snprintf(st, sizeof st, "%s/%d/task/%d/stat", procfs, vcpus[i].pid,
                    vcpus[i].tid);
      BareVcpuRead(AT_FDCWD, ss, st, vcpus[i], results[i], stat_reads);
    }
    benchmark::ClobberMemory();
  }
  BareCounters(state, stat_reads, results);
}

// Relative to one /proc/PID/task dirfd per process (the cheapest lookup).
void BM_BareLoopAt(benchmark::State& state) {
  const std::vector<BareVcpu>& vcpus = g_fix->bare;
  std::vector<BareResult> results(vcpus.size());
  std::size_t stat_reads = 0;
  CpuSplit split(state);
  for (auto _ : state) {
    stat_reads = 0;
    int proc = ::open(g_fix->procfs.c_str(), O_RDONLY | O_DIRECTORY);
    int task = -1, task_pid = -1;
    for (std::size_t i = 0; i < vcpus.size(); ++i) {
      char ss[64], st[64];
      if (vcpus[i].pid != task_pid) {
        if (task >= 0) ::close(task);
        std::snprintf(ss, sizeof ss, "%d/task", vcpus[i].pid);
        task = ::openat(proc, ss, O_RDONLY | O_DIRECTORY);
        task_pid = vcpus[i].pid;
      }
      std::snprintf(ss, sizeof ss, "%d/schedstat", vcpus[i].tid);
      std::snprintf(st, sizeof st, "%d/stat", vcpus[i].tid);
      BareVcpuRead(task, ss, st, vcpus[i], results[i], stat_reads);
    }
    if (task >= 0) ::close(task);
    ::close(proc);
    benchmark::ClobberMemory();
  }
  BareCounters(state, stat_reads, results);
}

// The exporter's reader alone: what every collector of a scrape shares.
void BM_SampleGuests(benchmark::State& state) {
  auto inventory = g_fix->with_tids->inventory;
  for (auto _ : state) {
    GuestSample sample = SampleGuests(g_fix->procfs, inventory);
    benchmark::DoNotOptimize(sample);
  }
}

// What one scrape leaves for the counters.
struct ScrapeResult {
  std::size_t bytes = 0, series = 0;
};

// One scrape as ExporterCollectable and the HTTP server run it: collect,
// write the text, give the families back to the pool for the next scrape to
// refill in place.
ScrapeResult ScrapeBody(LibvirtCollector& c, GuestSampler& sampler,
                        ViolationRegistry& reg, FamilyPool& pool) {
  std::vector<prometheus::MetricFamily> out;
  sampler.Reset();
  ScrapeContext ctx{g_fix->iso, reg, sampler, &pool};
  c.Collect(ctx, out);
  std::string text = TextExposition::ToString(out);
  benchmark::DoNotOptimize(text);
  ScrapeResult r{text.size(), 0};
  for (const auto& f : out) r.series += f.metric.size();
  pool.GiveBack(std::move(out));
  return r;
}

// The timed scrape, a function of its own so that callgrind can count it
// alone (--toggle-collect='*ScrapeOnce*'), without the warm-up.
[[gnu::noinline]] ScrapeResult ScrapeOnce(LibvirtCollector& c,
                                          GuestSampler& sampler,
                                          ViolationRegistry& reg,
                                          FamilyPool& pool) {
  return ScrapeBody(c, sampler, reg, pool);
}

void Scrape(benchmark::State& state,
            std::shared_ptr<const LibvirtSnapshot> snap,
            GuestSampler::KeepFiles keep = GuestSampler::KeepFiles::kNever) {
  LibvirtStatus st;
  st.up = true;
  st.last_good = std::move(snap);
  LibvirtCollector c([&] { return st; }, 30);
  GuestSampler sampler(g_fix->procfs, keep);
  ViolationRegistry reg;
  FamilyPool pool;
  // A running exporter's scrapes after its first: counters bound to the
  // inventory, the pool holding the previous scrape's families.
  ScrapeResult r = ScrapeBody(c, sampler, reg, pool);
  CpuSplit split(state);
  for (auto _ : state) r = ScrapeOnce(c, sampler, reg, pool);
  state.counters["series"] = static_cast<double>(r.series);
  state.counters["bytes"] = static_cast<double>(r.bytes);
}

void BM_Scrape(benchmark::State& state) { Scrape(state, g_fix->with_tids); }
// As the exporter scrapes a real procfs: every file's descriptor kept open
// across scrapes and read again with pread (KeptProcFiles; the fixture's
// files are never replaced, so this reads what opening them would).
void BM_ScrapeKeptFiles(benchmark::State& state) {
  Scrape(state, g_fix->with_tids, GuestSampler::KeepFiles::kAlways);
}

// The text exposition of one scrape's families alone: the user-space part of
// BM_Scrape that does not depend on the kernel's files.
void BM_ScrapeText(benchmark::State& state) {
  LibvirtStatus st;
  st.up = true;
  st.last_good = g_fix->with_tids;
  LibvirtCollector c([&] { return st; }, 30);
  GuestSampler sampler(g_fix->procfs);
  ViolationRegistry reg;
  std::vector<prometheus::MetricFamily> out;
  ScrapeContext ctx{g_fix->iso, reg, sampler, nullptr};
  c.Collect(ctx, out);
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = TextExposition::ToString(out);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
void BM_ScrapeBulk(benchmark::State& state) {
  Scrape(state, g_fix->without_tids);
}

BENCHMARK(BM_Refresh)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BareLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BareLoopAt)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SampleGuests)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Scrape)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScrapeKeptFiles)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScrapeBulk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScrapeText)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hostiso

int main(int argc, char** argv) {
  // As the exporter does at start-up: the kept-file benchmarks hold thousands
  // of descriptors.
  hostiso::RaiseOpenFileLimit();
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--domains=", 0) == 0) {
      hostiso::g_domains = std::atoi(a.c_str() + 10);
    } else if (a.rfind("--pinned-percent=", 0) == 0) {
      hostiso::g_pinned_percent = std::atoi(a.c_str() + 17);
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  hostiso::Setup();
  std::cerr << "fixture: " << hostiso::g_domains << " domains x "
            << hostiso::kVcpus << " vCPUs (" << hostiso::g_pinned_percent
            << "% of domains pinned 1:1) in " << hostiso::g_dir << "\n";
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(hostiso::g_dir);
  return 0;
}
