// Benchmark of the thread census on real threads (issue 4).
//
// Spawns --threads sleeping threads (16 KiB stacks) spread over --procs child
// processes, then measures in the same run, median of --runs repetitions:
//   (a) a bare C loop: list every /proc/PID/task/TID + sched_getaffinity;
//   (b) the same loop also reading every thread's stat once;
//   (c) ThreadCensus::Run with the spawned threads confined to host CPU 0 and
//       guest CPUs = 1 (a well-isolated host; goal <= 1.5 x (a));
//   (d) ThreadCensus::Run with the spawned threads allowed on every CPU
//       (goal <= 1.2 x (b));
//   (e) (d) with the idle-process shortcut off: the worst case, where every
//       process ran since the previous census (goal <= 1.2 x (b) too);
// and, with --exporter, the exporter's own CPU use (utime+stime from
// /proc/PID/stat) over --exporter-seconds at the default census interval, in
// both placements (goal < 1% of one core).
// Raises kernel.pid_max / kernel.threads-max when needed and restores them.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/census/census.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int threads = 50000;
  int procs = 25;
  int runs = 5;
  std::string exporter;
  int exporter_seconds = 60;
  int host_cpu = 0;
  int guest_cpu = 1;
};

// --- sysctl save/restore -----------------------------------------------------

struct Sysctl {
  std::string path;
  long saved = -1;
};
std::vector<Sysctl> g_sysctls;

long ReadLong(const std::string& path) {
  std::ifstream in(path);
  long v = -1;
  in >> v;
  return v;
}
bool WriteLong(const std::string& path, long v) {
  std::ofstream out(path);
  out << v << "\n";
  out.flush();
  return static_cast<bool>(out);
}
void RestoreSysctls() {
  for (const Sysctl& s : g_sysctls) {
    if (s.saved >= 0) {
      WriteLong(s.path, s.saved);
      std::fprintf(stderr, "restored %s = %ld\n", s.path.c_str(), s.saved);
    }
  }
  g_sysctls.clear();
}
void RaiseAtLeast(const std::string& path, long want) {
  long cur = ReadLong(path);
  if (cur >= want) return;
  if (!WriteLong(path, want)) {
    std::fprintf(stderr, "cannot raise %s to %ld\n", path.c_str(), want);
    return;
  }
  g_sysctls.push_back({path, cur});
  std::fprintf(stderr, "raised %s from %ld to %ld\n", path.c_str(), cur, want);
}

// --- the sleeping threads
// ------------------------------------------------------

std::vector<pid_t> g_children;
void KillChildren() {
  for (pid_t c : g_children) ::kill(c, SIGKILL);
  for (pid_t c : g_children) ::waitpid(c, nullptr, 0);
  g_children.clear();
}
void OnSignal(int) {
  KillChildren();
  RestoreSysctls();
  std::_Exit(1);
}

void* Sleeper(void*) {
  while (true) ::pause();
  return nullptr;
}

void SetAffinity(pid_t tid, const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  ::sched_setaffinity(tid, sizeof(set), &set);
}

// A child that starts `n` sleeping threads, reports how many, then sleeps.
pid_t SpawnChild(int n, int host_cpu) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(fds[0]);
    SetAffinity(
        0, {host_cpu});  // threads inherit it: the well-isolated case first
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    long min = ::sysconf(_SC_THREAD_STACK_MIN);
    pthread_attr_setstacksize(&attr,
                              static_cast<std::size_t>(std::max(16384L, min)));
    int made = 0;
    for (int i = 0; i < n; ++i) {
      pthread_t t;
      if (pthread_create(&t, &attr, Sleeper, nullptr) != 0) break;
      ++made;
    }
    (void)!::write(fds[1], &made, sizeof(made));
    ::close(fds[1]);
    while (true) ::pause();
  }
  ::close(fds[1]);
  int made = 0;
  if (::read(fds[0], &made, sizeof(made)) != sizeof(made)) made = -1;
  ::close(fds[0]);
  g_children.push_back(pid);
  return made < 0 ? -1 : made;
}

void SetChildrenAffinity(const std::vector<int>& cpus) {
  char path[64];
  for (pid_t c : g_children) {
    std::snprintf(path, sizeof(path), "/proc/%d/task", c);
    DIR* d = ::opendir(path);
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
        SetAffinity(std::atoi(e->d_name), cpus);
    }
    ::closedir(d);
  }
}

// --- the bare loops
// ----------------------------------------------------------------

struct LoopCount {
  long tasks = 0;
  long stats = 0;
};

// Plain readdir + sched_getaffinity (+ open/read/close of stat): what any C
// program would write.
LoopCount BareLoop(bool read_stat) {
  LoopCount n;
  DIR* proc = ::opendir("/proc");
  char path[640];
  char buf[1024];
  cpu_set_t set;
  while (dirent* p = ::readdir(proc)) {
    if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
    std::snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
    DIR* task = ::opendir(path);
    if (!task) continue;
    while (dirent* t = ::readdir(task)) {
      if (t->d_name[0] < '0' || t->d_name[0] > '9') continue;
      if (::sched_getaffinity(std::atoi(t->d_name), sizeof(set), &set) != 0)
        continue;
      ++n.tasks;
      if (read_stat) {
        std::snprintf(path, sizeof(path), "/proc/%s/task/%s/stat", p->d_name,
                      t->d_name);
        int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (::read(fd, buf, sizeof(buf)) > 0) ++n.stats;
        ::close(fd);
      }
    }
    ::closedir(task);
  }
  ::closedir(proc);
  return n;
}

double Seconds(const std::function<void()>& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// --- the exporter
// ------------------------------------------------------------------

double ProcCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto st = hostiso::ParseTaskStat(line);
  if (!st) return -1;
  return static_cast<double>(st->utime + st->stime) /
         hostiso::ClockTicksPerSecond();
}

int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(s);
    return 0;
  }
  socklen_t len = sizeof(a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

std::string HttpGet(int port, const std::string& path) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string body;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!::write(s, req.data(), req.size());
    char buf[65536];
    ssize_t n;
    while ((n = ::read(s, buf, sizeof(buf))) > 0)
      body.append(buf, static_cast<std::size_t>(n));
  }
  ::close(s);
  return body;
}

std::string MetricLine(const std::string& body, const std::string& name) {
  std::size_t pos = body.find("\n" + name + " ");
  if (pos == std::string::npos) return "?";
  std::size_t end = body.find('\n', pos + 1);
  return body.substr(pos + 1 + name.size() + 1, end - pos - name.size() - 2);
}

struct ExporterFigures {
  double cpu_seconds =
      -1;  // over the first exporter_seconds, start-up included
  double wall_seconds = 0;
  double steady_cpu_seconds = -1;  // over the next exporter_seconds
  double steady_wall_seconds = 0;
  std::string census_duration, census_tasks, stat_reads;
};

// Runs the exporter at its default census interval for `seconds`, scraping
// every 15 s like Prometheus, and returns its CPU time.
ExporterFigures RunExporter(const Options& o) {
  ExporterFigures f;
  int port = FreePort();
  if (port <= 0) {
    std::fprintf(stderr, "cannot find a free loopback port for the exporter\n");
    return f;
  }
  std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
  std::string guest = "--isolation.guest-cpus=" + std::to_string(o.guest_cpu);
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    // No libvirt here: its connection retries are not the census' cost.
    ::execl(o.exporter.c_str(), o.exporter.c_str(), listen.c_str(),
            guest.c_str(), "--no-collector.libvirt",
            "--nova.config=/nonexistent/nova.conf",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  std::string body;
  for (int s = 1; s <= o.exporter_seconds; ++s) {
    ::sleep(1);
    if (s % 15 == 0) body = HttpGet(port, "/metrics");
  }
  f.cpu_seconds = ProcCpuSeconds(pid);
  auto t1 = Clock::now();
  f.wall_seconds = std::chrono::duration<double>(t1 - t0).count();
  // Steady state: the first census reads every candidate's stat once to
  // classify it; later ones skip idle processes.
  for (int s = 1; s <= o.exporter_seconds; ++s) {
    ::sleep(1);
    if (s % 15 == 0) body = HttpGet(port, "/metrics");
  }
  f.steady_cpu_seconds = ProcCpuSeconds(pid) - f.cpu_seconds;
  f.steady_wall_seconds =
      std::chrono::duration<double>(Clock::now() - t1).count();
  f.census_duration = MetricLine(body, "hostiso_census_duration_seconds");
  f.census_tasks = MetricLine(body, "hostiso_census_tasks");
  f.stat_reads = MetricLine(body, "hostiso_census_stat_reads");
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  return f;
}

// --- main, in steps ----------------------------------------------------------

// nullopt on an unknown argument (usage printed).
std::optional<Options> ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      std::string prefix = std::string(name) + "=";
      if (a.rfind(prefix, 0) == 0) return argv[i] + prefix.size();
      return nullptr;
    };
    if (auto v = value("--threads"))
      o.threads = std::atoi(v);
    else if (auto v2 = value("--procs"))
      o.procs = std::atoi(v2);
    else if (auto v3 = value("--runs"))
      o.runs = std::atoi(v3);
    else if (auto v4 = value("--exporter"))
      o.exporter = v4;
    else if (auto v5 = value("--exporter-seconds"))
      o.exporter_seconds = std::atoi(v5);
    else {
      std::fprintf(
          stderr,
          "usage: %s [--threads=N] [--procs=N] [--runs=N] [--exporter=PATH] "
          "[--exporter-seconds=N]\n",
          argv[0]);
      return std::nullopt;
    }
  }
  return o;
}

// Spreads o.threads sleeping threads over o.procs children confined to the
// host CPU; how many it made.
int SpawnThreads(const Options& o) {
  auto t_spawn = Clock::now();
  int per = (o.threads + o.procs - 1) / o.procs;
  int made = 0;
  for (int p = 0; p < o.procs && made < o.threads; ++p) {
    int n = std::min(per, o.threads - made);
    int got = SpawnChild(n, o.host_cpu);
    if (got < 0) break;
    made += got;
    if (got < n) {
      std::fprintf(stderr, "child %d made only %d of %d threads\n", p, got, n);
      break;
    }
  }
  std::printf("spawned %d sleeping threads in %zu processes in %.1f s\n", made,
              g_children.size(),
              std::chrono::duration<double>(Clock::now() - t_spawn).count());
  return made;
}

struct Row {
  const char* what;
  std::vector<double> t;
  long tasks = 0, reads = 0;
};

// Rows (a), (b), (c) (confined) or (a), (b), (d), (e) (threads on all CPUs),
// o.runs repetitions each, in the same run.
std::vector<Row> MeasurePlacement(const Options& o,
                                  const hostiso::CpuRoles& roles,
                                  bool confined) {
  Row a{"(a) bare loop: list + sched_getaffinity", {}};
  Row b{"(b) bare loop: list + sched_getaffinity + read stat", {}};
  Row c{confined ? "(c) census, spawned threads confined to host CPU 0"
                 : "(d) census, spawned threads allowed on all CPUs",
        {}};
  Row e{"(e) = (d) without the idle-process shortcut (every process ran)", {}};
  hostiso::CensusOptions co;
  co.paths = hostiso::HostPaths::Detect("/proc", "/sys", "/");
  co.top_comms = 10;
  hostiso::ThreadCensus census(co, nullptr);
  census.Run(roles);  // baseline round (the exporter's steady state has one)
  co.skip_idle_processes = false;
  hostiso::ThreadCensus full(co, nullptr);
  if (!confined) full.Run(roles);
  for (int r = 0; r < o.runs; ++r) {
    LoopCount la, lb;
    a.t.push_back(Seconds([&] { la = BareLoop(false); }));
    b.t.push_back(Seconds([&] { lb = BareLoop(true); }));
    hostiso::CensusResult cr, er;
    c.t.push_back(Seconds([&] { cr = census.Run(roles).value(); }));
    if (!confined)
      e.t.push_back(Seconds([&] { er = full.Run(roles).value(); }));
    a.tasks = la.tasks;
    b.tasks = lb.tasks;
    b.reads = lb.stats;
    c.tasks = static_cast<long>(cr.tasks);
    c.reads = static_cast<long>(cr.stat_reads);
    e.tasks = static_cast<long>(er.tasks);
    e.reads = static_cast<long>(er.stat_reads);
  }
  std::vector<Row> rows{a, b, c};
  if (!confined) rows.push_back(e);
  return rows;
}

const char* const kPlacement[] = {"confined to CPU 0", "all CPUs"};

void PrintTables(const std::vector<std::vector<Row>>& tables) {
  std::printf(
      "| placement | measurement | median s | min s | max s | tasks | stat "
      "reads |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    for (const Row& r : tables[i]) {
      auto [mn, mx] = std::minmax_element(r.t.begin(), r.t.end());
      std::printf("| %s | %s | %.3f | %.3f | %.3f | %ld | %ld |\n",
                  kPlacement[i], r.what, Median(r.t), *mn, *mx, r.tasks,
                  r.reads);
    }
  }
}

// The census goals against the bare loops; true when all are met.
bool PrintCensusGoals(const std::vector<std::vector<Row>>& tables) {
  double ratio_c = Median(tables[0][2].t) / Median(tables[0][0].t);
  double ratio_d = Median(tables[1][2].t) / Median(tables[1][1].t);
  double ratio_e = Median(tables[1][3].t) / Median(tables[1][1].t);
  std::printf("\n(c)/(a) = %.2f (goal <= 1.5): %s\n", ratio_c,
              ratio_c <= 1.5 ? "met" : "MISSED");
  std::printf("(d)/(b) = %.2f (goal <= 1.2): %s\n", ratio_d,
              ratio_d <= 1.2 ? "met" : "MISSED");
  std::printf(
      "(e)/(b) = %.2f (worst case, every process ran; goal <= 1.2): %s\n",
      ratio_e, ratio_e <= 1.2 ? "met" : "MISSED");
  return ratio_c <= 1.5 && ratio_d <= 1.2 && ratio_e <= 1.2;
}

// The exporter's own CPU use in one placement; true when under 1 % of a
// core in the steady state.
bool PrintExporterGoal(const char* placement, const ExporterFigures& f) {
  double pct = 100.0 * f.cpu_seconds / f.wall_seconds;
  double steady = 100.0 * f.steady_cpu_seconds / f.steady_wall_seconds;
  std::printf(
      "exporter, threads %s, default interval, scraped every 15 s: first "
      "%.0f s (start-up "
      "included) %.2f s CPU = %.2f%% of one core; next %.0f s %.2f s CPU = "
      "%.2f%% (goal < "
      "1%%): %s; last census in exporter (SCHED_IDLE): %s s, tasks %s, "
      "stat reads %s\n",
      placement, f.wall_seconds, f.cpu_seconds, pct, f.steady_wall_seconds,
      f.steady_cpu_seconds, steady, steady < 1.0 ? "met" : "MISSED",
      f.census_duration.c_str(), f.census_tasks.c_str(), f.stat_reads.c_str());
  return steady < 1.0;
}

// Guest CPUs = {o.guest_cpu} (the flag's way), every online CPU present.
hostiso::CpuRoles BenchRoles(const Options& o, const std::vector<int>& cpus) {
  hostiso::GuestCpuSets sets;
  sets.source = hostiso::GuestSetSource::kFlag;
  sets.legacy.Insert(o.guest_cpu);
  hostiso::CpuSet online;
  for (int c : cpus) online.Insert(c);
  return hostiso::CpuRoles(sets, online);
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> parsed = ParseOptions(argc, argv);
  if (!parsed) return 2;
  const Options& o = *parsed;
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 2) {
    std::printf(
        "SKIP: needs at least 2 CPUs (host CPU 0, guest CPU 1), have %ld\n",
        ncpu);
    return 77;
  }
  std::vector<int> all_cpus;
  all_cpus.reserve(static_cast<std::size_t>(ncpu));
  for (int c = 0; c < ncpu; ++c) all_cpus.push_back(c);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::atexit([] {
    KillChildren();
    RestoreSysctls();
  });
  // Room for the new threads on top of what runs already, with margin.
  long want = o.threads + 40000;
  RaiseAtLeast("/proc/sys/kernel/pid_max", std::min<long>(want, 4194304));
  RaiseAtLeast("/proc/sys/kernel/threads-max", want);

  // The bench itself stays on the host CPU, like the exporter would.
  SetAffinity(0, {o.host_cpu});
  const int made = SpawnThreads(o);
  if (made < o.threads) {
    std::printf("FAIL: could spawn only %d of %d threads\n", made, o.threads);
    return 1;
  }
  const hostiso::CpuRoles roles = BenchRoles(o, all_cpus);

  std::vector<std::vector<Row>> tables;
  ExporterFigures ef[2];
  tables.push_back(MeasurePlacement(o, roles, true));
  if (!o.exporter.empty()) ef[0] = RunExporter(o);
  SetChildrenAffinity(all_cpus);
  tables.push_back(MeasurePlacement(o, roles, false));
  if (!o.exporter.empty()) ef[1] = RunExporter(o);

  std::printf(
      "\n%d threads in %zu processes, %ld CPUs, guest CPU %d, median of %d "
      "runs\n\n",
      made, g_children.size(), ncpu, o.guest_cpu, o.runs);
  PrintTables(tables);
  bool ok = PrintCensusGoals(tables);
  if (!o.exporter.empty()) {
    for (int i = 0; i < 2; ++i)
      ok = PrintExporterGoal(kPlacement[i], ef[i]) && ok;
  }
  KillChildren();
  RestoreSysctls();
  // Figures, not a timed assertion (the project's rule for benchmarks): the
  // verdicts above are for the reader.
  std::printf("goals: %s\n", ok ? "all met" : "some MISSED");
  return 0;
}
