// The sched collector's vCPU counter iterator (hostiso_vcpu_iter) against the
// kernel's own /proc/PID/task/TID/schedstat, on real threads of this process.
//
//   hostiso-sched-vcpu-counters check   live test (root; exit 77 when the
//                                       BPF programs cannot load here)
//   hostiso-sched-vcpu-counters bench [--only=NAME] [--reps=N]
//       4,000 sleeping threads registered as 500 domains x 8 vCPUs: one
//       iterator read vs a bare loop over their 4,000 schedstat files, and
//       the exporter's guest sample (SampleGuests) with counters from the
//       files vs from the iterator, and the libvirt collector's whole
//       scrape (Collect + text exposition) three ways: files opened at each
//       scrape, files kept open (as on a real procfs), the iterator. NAME:
//       iter, files, files-kept, sample-files, sample-iter,
//       scrape-files-reopened, scrape-files, scrape-iter (one alone, for
//       perf stat / callgrind).
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/collectors/libvirt_collector.h"
#include "metrics/guest_sample.h"
#include "metrics/libvirt/libvirt_source.h"
#include "metrics/procfs/kept_files.h"
#include "metrics/procfs/read_file.h"
#include "metrics/procfs/task_schedstat.h"
#include "metrics/procfs/task_stat.h"
#include "metrics/sched/sched_bpf.h"
#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

constexpr int kSkip = 77;

// Threads of this process that sleep in read() on one pipe until Stop(), or
// spin until Stop(); each reports its tid once started.
class ThreadPool {
 public:
  ~ThreadPool() { Stop(); }
  bool Start(int sleepers, int spinners) {
    if (pipe(pipe_) != 0) return false;
    const int total = sleepers + spinners;
    tids_.assign(static_cast<std::size_t>(total), 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, std::size_t{64} << 10);  // 4,000 of them
    for (int i = 0; i < total; ++i) {
      args_.push_back(std::make_unique<Arg>(Arg{this, i, i >= sleepers}));
      pthread_t t{};
      if (pthread_create(&t, &attr, &ThreadPool::Run, args_.back().get()) !=
          0) {
        pthread_attr_destroy(&attr);
        return false;
      }
      threads_.push_back(t);
    }
    pthread_attr_destroy(&attr);
    while (started_.load() < total) usleep(1000);
    usleep(50 * 1000);  // every sleeper is in read() by now
    return true;
  }
  void Stop() {
    if (threads_.empty()) return;
    stop_.store(true);
    close(pipe_[1]);  // EOF wakes every sleeper
    for (pthread_t t : threads_) pthread_join(t, nullptr);
    close(pipe_[0]);
    threads_.clear();
  }
  const std::vector<pid_t>& Tids() const { return tids_; }

 private:
  struct Arg {
    ThreadPool* pool;
    int index;
    bool spin;
  };
  static void* Run(void* p) {
    auto* a = static_cast<Arg*>(p);
    a->pool->tids_[static_cast<std::size_t>(a->index)] =
        static_cast<pid_t>(syscall(SYS_gettid));
    a->pool->started_.fetch_add(1);
    if (a->spin) {
      while (!a->pool->stop_.load(std::memory_order_relaxed)) {
      }
    } else {
      char c = 0;
      while (read(a->pool->pipe_[0], &c, 1) < 0) {
      }
    }
    return nullptr;
  }
  int pipe_[2] = {-1, -1};
  std::vector<pthread_t> threads_;
  std::vector<std::unique_ptr<Arg>> args_;
  std::vector<pid_t> tids_;
  std::atomic<int> started_{0};
  std::atomic<bool> stop_{false};
};

// /proc/self/task/TID/<file>, read whole.
std::string ReadTaskFile(pid_t tid, const char* file) {
  char path[96];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, file);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

TaskSchedstat Schedstat(pid_t tid) {
  auto s = ParseTaskSchedstat(ReadTaskFile(tid, "schedstat"));
  return s ? *s : TaskSchedstat{};
}

// Loads the programs and registers `tids` as `per_domain` vCPUs per domain;
// nullptr (after saying why) when this machine cannot.
std::unique_ptr<SchedBpf> LoadWith(const std::vector<pid_t>& tids,
                                   std::uint32_t per_domain) {
  auto bpf = LoadSchedBpf();
  if (!bpf) {
    std::printf("SKIP: %s\n", bpf.error().c_str());
    return nullptr;
  }
  if (!(*bpf)->HasVcpuCounters()) {
    std::printf("SKIP: the kernel refused the iter/task program\n");
    return nullptr;
  }
  SchedClassification c;
  for (std::size_t i = 0; i < tids.size(); ++i) {
    c.vcpus[static_cast<std::uint32_t>(tids[i])] = {
        static_cast<std::uint32_t>(i / per_domain),
        static_cast<std::uint32_t>(i % per_domain)};
  }
  if (auto r = (*bpf)->SetClassification(c); !r) {
    std::printf("FAIL: %s\n", r.error().c_str());
    return nullptr;
  }
  return std::move(*bpf);
}

const VcpuCounters* FindRow(const std::vector<VcpuCounters>& rows, pid_t tid) {
  for (const VcpuCounters& r : rows) {
    if (r.tid == tid) return &r;
  }
  return nullptr;
}

int failures = 0;

void Expect(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// Sleeping threads: run, delay, pcount and CPU equal their files exactly.
void CheckSleeper(const VcpuCounters& r, pid_t tid) {
  const TaskSchedstat f = Schedstat(tid);
  auto st = ParseTaskStat(ReadTaskFile(tid, "stat"));
  const std::string who = "sleeping tid " + std::to_string(tid);
  Expect(r.run_ns == f.run_ns && r.delay_ns == f.delay_ns &&
             r.pcount == f.timeslices,
         who + " iterator " + std::to_string(r.run_ns) + " " +
             std::to_string(r.delay_ns) + " " + std::to_string(r.pcount) +
             " == schedstat " + std::to_string(f.run_ns) + " " +
             std::to_string(f.delay_ns) + " " + std::to_string(f.timeslices));
  Expect(st && st->processor == r.cpu, who + " cpu == stat's processor");
  Expect(r.tgid == getpid(), who + " tgid is this process");
  Expect(r.run_ns > 0 && r.pcount > 0, who + " has run (not a zero record)");
}

// A spinning thread: the iterator's run time lies between the file read just
// before and just after, and within a tick (10 ms at HZ=100) of the latter.
void CheckSpinner(const VcpuCounters& r, const TaskSchedstat& before,
                  pid_t tid) {
  const TaskSchedstat after = Schedstat(tid);
  const std::string who = "spinning tid " + std::to_string(tid);
  Expect(before.run_ns <= r.run_ns && r.run_ns <= after.run_ns,
         who + " schedstat before " + std::to_string(before.run_ns) +
             " <= iterator " + std::to_string(r.run_ns) + " <= after " +
             std::to_string(after.run_ns));
  Expect(after.run_ns - r.run_ns <= 10'000'000,
         who + " iterator within a tick of the file read after it");
  Expect(r.run_ns >= 10'000'000, who + " ran >= 10 ms (it spins)");
}

int Check() {
  constexpr int kSleepers = 8;
  ThreadPool pool;
  if (!pool.Start(kSleepers + 1, 1)) {
    std::printf("FAIL: cannot start threads\n");
    return 1;
  }
  const std::vector<pid_t>& tids = pool.Tids();
  // The last sleeper stays unregistered: the iterator must not report it.
  std::vector<pid_t> registered(tids.begin(), tids.begin() + kSleepers);
  const pid_t unregistered = tids[kSleepers];
  const pid_t spinner = tids[kSleepers + 1];
  registered.push_back(spinner);
  auto bpf = LoadWith(registered, 8);
  if (!bpf) return kSkip;
  usleep(300 * 1000);  // the spinner accumulates run time
  const TaskSchedstat before = Schedstat(spinner);
  auto rows = bpf->ReadVcpuCounters();
  if (!rows) {
    Expect(false, "iterator read: " + rows.error());
    return 1;
  }
  const VcpuCounters* spin_row = FindRow(*rows, spinner);
  Expect(spin_row != nullptr, "the spinner is reported");
  if (spin_row != nullptr) CheckSpinner(*spin_row, before, spinner);
  for (int i = 0; i < kSleepers; ++i) {
    const VcpuCounters* r = FindRow(*rows, tids[static_cast<std::size_t>(i)]);
    Expect(r != nullptr, "sleeper " + std::to_string(i) + " is reported");
    if (r != nullptr) CheckSleeper(*r, tids[static_cast<std::size_t>(i)]);
  }
  Expect(FindRow(*rows, unregistered) == nullptr,
         "an unregistered thread is not reported");
  Expect(rows->size() == registered.size(),
         "one record per registered thread (" + std::to_string(rows->size()) +
             ")");
  pool.Stop();
  // Exited threads leave the map (sched_process_exit) and the walk.
  auto after = bpf->ReadVcpuCounters();
  Expect(after && after->empty(), "no record once the threads exited");
  std::printf("%s\n", failures == 0 ? "PASS" : "FAILED");
  return failures == 0 ? 0 : 1;
}

// ---- benchmark ----

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

double Now(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 +
         static_cast<double>(ts.tv_nsec) / 1e6;
}

// The median wall and thread CPU time (user + system: the kernel's walk is
// charged to the reading thread) of `reps` runs of `fn`.
Timing Measure(int reps, const std::function<void()>& fn) {
  std::vector<double> wall;
  std::vector<double> cpu;
  for (int i = 0; i < reps; ++i) {
    const double w0 = Now(CLOCK_MONOTONIC);
    const double c0 = Now(CLOCK_THREAD_CPUTIME_ID);
    fn();
    cpu.push_back(Now(CLOCK_THREAD_CPUTIME_ID) - c0);
    wall.push_back(Now(CLOCK_MONOTONIC) - w0);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// 500 domains x 8 vCPUs, each pinned to one CPU (no stat read), all threads
// of this process standing in for QEMU.
std::shared_ptr<const GuestInventory> Inventory(const std::vector<pid_t>& tids,
                                                int per_domain) {
  auto inv = std::make_shared<GuestInventory>();
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  for (std::size_t i = 0; i < tids.size(); ++i) {
    if (i % static_cast<std::size_t>(per_domain) == 0) {
      GuestDomain& d = inv->domains.emplace_back();
      const std::string n = std::to_string(inv->domains.size());
      d.name = "instance-" + n;
      d.uuid = "00000000-0000-0000-0000-" + n;
      d.instance_name = "vm-" + n;
      d.project_id = "p-" + n;
      d.project_name = "project-" + n;
      d.flavor = "m1.xlarge";
      d.cpu_policy = "dedicated";
      d.qemu_pid = getpid();
      d.vcpu_count = per_domain;
      d.memory_bytes = std::uint64_t{8} << 30;
    }
    GuestVcpu& v = inv->domains.back().vcpus.emplace_back();
    v.index = static_cast<int>(i % static_cast<std::size_t>(per_domain));
    v.tid = tids[i];
    v.affinity = CpuSet::FromList(
        {static_cast<int>(i % static_cast<std::size_t>(cpus))});
  }
  return inv;
}

void Report(const char* what, const Timing& t, std::size_t n) {
  std::printf("%-44s wall %8.3f ms  cpu %8.3f ms  (%.2f us cpu per thread)\n",
              what, t.wall_ms, t.cpu_ms,
              t.cpu_ms * 1e3 / static_cast<double>(n));
}

// The sampler's source in the exporter is the sched collector; here the
// loaded programs directly.
class BpfSource : public VcpuCounterSource {
 public:
  explicit BpfSource(SchedBpf& bpf) : bpf_(bpf) {}
  Expected<std::vector<VcpuCounters>> ReadVcpuCounters() override {
    return bpf_.ReadVcpuCounters();
  }

 private:
  SchedBpf& bpf_;
};

// The libvirt collector's scrape of `inv` (what libvirt would have listed),
// with the vCPU counters from `source` or, when null, from the files.
Timing ScrapeLibvirt(std::shared_ptr<const GuestInventory> inv,
                     const std::shared_ptr<VcpuCounterSource>& source,
                     GuestSampler::KeepFiles keep, int reps,
                     std::size_t& series, std::size_t& bytes) {
  auto snap = std::make_shared<LibvirtSnapshot>();
  snap->inventory = std::move(inv);
  LibvirtStatus status;
  status.up = true;
  status.last_good = snap;
  LibvirtCollector collector([&status] { return status; }, 30);
  GuestSampler sampler("/proc", keep);
  if (source) sampler.SetVcpuCounterSource(source);
  IsolationSnapshot iso;
  ViolationRegistry reg;
  return Measure(reps, [&] {
    std::vector<prometheus::MetricFamily> out;
    sampler.Reset();
    ScrapeContext ctx{iso, reg, sampler};
    if (!collector.Collect(ctx, out)) return;
    bytes = TextExposition::ToString(out).size();
    series = 0;
    for (const auto& f : out) series += f.metric.size();
  });
}

// The floor of KeptProcFiles: one pread per file on descriptors opened
// before the timing. Returns the bytes read (a checksum).
std::size_t BenchKeptFiles(const std::vector<pid_t>& tids, int reps) {
  std::vector<UniqueFd> fds;
  for (pid_t t : tids) {
    const std::string path =
        "/proc/self/task/" + std::to_string(t) + "/schedstat";
    fds.push_back(OpenFileAt(AT_FDCWD, path.c_str()));
  }
  std::size_t sink = 0;
  Report("4,000 schedstat files kept open (pread)",
         Measure(reps,
                 [&] {
                   char buf[256];
                   for (const UniqueFd& fd : fds) {
                     const ssize_t n =
                         PreadSmallFile(fd.get(), buf, sizeof(buf));
                     sink += n > 0 ? static_cast<std::size_t>(n) : 0;
                   }
                 }),
         tids.size());
  return sink;
}

// The libvirt collector's whole scrape three ways: files opened at every
// scrape, files kept open (as on a real procfs), counters from the iterator.
template <typename Want>
void BenchScrapes(const std::shared_ptr<const GuestInventory>& inv,
                  std::size_t threads, SchedBpf& bpf, const Want& want,
                  int reps) {
  struct ScrapeVariant {
    const char* name;
    const char* what;
    bool from_iter;
    GuestSampler::KeepFiles keep;
  };
  for (const ScrapeVariant& v :
       {ScrapeVariant{"scrape-files-reopened",
                      "libvirt scrape, counters from the files, each "
                      "opened at every scrape",
                      false, GuestSampler::KeepFiles::kNever},
        ScrapeVariant{"scrape-files",
                      "libvirt scrape, counters from the files, kept open "
                      "(as on a real procfs)",
                      false, GuestSampler::KeepFiles::kOnKernelFs},
        ScrapeVariant{"scrape-iter",
                      "libvirt scrape, counters from the iterator", true,
                      GuestSampler::KeepFiles::kOnKernelFs}}) {
    if (!want(v.name)) continue;
    std::size_t series = 0;
    std::size_t bytes = 0;
    const auto source =
        v.from_iter ? std::make_shared<BpfSource>(bpf) : nullptr;
    const Timing t = ScrapeLibvirt(inv, source, v.keep, reps, series, bytes);
    Report(v.what, t, threads);
    std::printf("  series: %zu, exposition bytes: %zu\n", series, bytes);
  }
}

int Bench(const std::string& only, int reps) {
  constexpr int kDomains = 500;
  constexpr int kPerDomain = 8;
  ThreadPool pool;
  if (!pool.Start(kDomains * kPerDomain, 0)) {
    std::printf("FAIL: cannot start 4,000 threads\n");
    return 1;
  }
  const std::vector<pid_t>& tids = pool.Tids();
  auto bpf = LoadWith(tids, kPerDomain);
  if (!bpf) return kSkip;
  const auto inv = Inventory(tids, kPerDomain);
  std::size_t sink = 0;
  const auto want = [&only](const char* name) {
    return only.empty() || only == name;
  };
  std::printf("threads: %zu (500 domains x 8 vCPUs, sleeping), reps %d\n",
              tids.size(), reps);
  if (want("iter")) {
    Report("iterator read (bpf_iter_create + read)",
           Measure(reps,
                   [&] {
                     auto rows = bpf->ReadVcpuCounters();
                     sink += rows ? rows->size() : 0;
                   }),
           tids.size());
  }
  if (want("files")) {
    Report("4,000 schedstat files (open/read/close)",
           Measure(reps,
                   [&] {
                     for (pid_t t : tids)
                       sink += ReadTaskFile(t, "schedstat").size();
                   }),
           tids.size());
  }
  if (want("sample-files")) {
    Report(
        "SampleGuests, counters from the files",
        Measure(reps,
                [&] { sink += SampleGuests("/proc", inv).vcpus_from_source; }),
        tids.size());
  }
  if (want("sample-iter")) {
    std::size_t from_source = 0;
    Report("SampleGuests, counters from the iterator",
           Measure(reps,
                   [&] {
                     auto rows = bpf->ReadVcpuCounters();
                     if (!rows) return;
                     const VcpuCounterTable table(std::move(*rows));
                     from_source =
                         SampleGuests("/proc", inv, &table).vcpus_from_source;
                   }),
           tids.size());
    std::printf("  vCPUs served by the iterator: %zu of %zu\n", from_source,
                tids.size());
    if (from_source != tids.size()) return 1;
  }
  if (want("files-kept")) sink += BenchKeptFiles(tids, reps);
  BenchScrapes(inv, tids.size(), *bpf, want, reps);
  std::printf("(checksum %zu)\n", sink);  // keeps the reads observable
  return 0;
}

}  // namespace
}  // namespace hostiso

int main(int argc, char** argv) {
  // As the exporter does at start-up: the kept-file benchmarks hold thousands
  // of descriptors.
  hostiso::RaiseOpenFileLimit();
  const std::string_view mode = argc > 1 ? argv[1] : "";
  std::string only;
  int reps = 50;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.substr(0, 7) == "--only=") {
      only = std::string(a.substr(7));
    } else if (a.substr(0, 7) == "--reps=") {
      reps = std::max(1, std::atoi(std::string(a.substr(7)).c_str()));
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::printf("SKIP: needs root (CAP_BPF + CAP_PERFMON) to load BPF\n");
    return hostiso::kSkip;
  }
  if (mode == "check") return hostiso::Check();
  if (mode == "bench") return hostiso::Bench(only, reps);
  std::fprintf(stderr, "usage: %s check | bench [--only=NAME] [--reps=N]\n",
               argv[0]);
  return 2;
}
