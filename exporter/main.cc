// hostiso_exporter: Prometheus exporter for host/guest isolation on KVM hosts.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "exporter/collector_table.h"
#include "exporter/flags.h"
#include "exporter/http_server.h"
#include "exporter/self_affinity.h"
#include "exporter/status_page.h"
#include "exporter/version.h"
#include "exporter/web_config.h"
#include "metrics/exporter_collectable.h"
#include "metrics/isolation_source.h"
#include "metrics/log.h"
#include "metrics/mutex.h"
#include "metrics/periodic_worker.h"
#include "metrics/procfs/kept_files.h"
#include "metrics/sysfs/cpu_topology.h"

namespace hostiso {
namespace {

// How long shutdown may take before the process exits anyway (a worker stuck
// in a system call must not keep a stopped exporter alive).
constexpr auto kShutdownBound = std::chrono::seconds(5);

// Signals handled by the main thread with sigwait: blocked in every thread
// (threads inherit the mask of the thread that creates them), so none of them
// is delivered asynchronously and none kills the process by default.
sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig :
       {SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU})
    sigaddset(&set, sig);
  return set;
}

// --isolation.guest-cpus naming CPUs this host does not have is a flag error,
// checked before anything logs (one line, exit 2). Without a readable CPU
// list in sysfs it cannot be checked here.
Expected<void> CheckGuestCpusExist(const Flags& flags, const HostPaths& paths) {
  if (!flags.guest_cpus) return Ok();
  auto lists = ReadSysfsCpuLists(paths.sysfs);
  if (!lists || !(lists->present || lists->online)) return Ok();
  const CpuSet& cpus = lists->present ? *lists->present : *lists->online;
  const CpuSet missing = flags.guest_cpus->Minus(cpus);
  if (missing.Empty()) return Ok();
  return Error("--isolation.guest-cpus: CPU " + missing.ToString() +
               " not present on this host (present: " + cpus.ToString() + ")");
}

// Waits for SIGTERM or SIGINT; SIGHUP reloads; the rest are logged and
// ignored.
void ServeSignals(PeriodicWorker& isolation_worker) {
  const sigset_t set = HandledSignals();
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT) {
      log::Info("shutting down", {{"signal", strsignal(sig)}});
      return;
    }
    if (sig == SIGHUP) {
      log::Info("SIGHUP: reloading the configuration");
      isolation_worker.Trigger();
      continue;
    }
    log::Info("ignoring signal", {{"signal", strsignal(sig)}});
  }
}

// Runs `stop` on its own thread and waits at most kShutdownBound for it;
// past that the process exits without it.
void StopWithin(std::function<void()> stop) {
  struct Done {
    Mutex mu;
    bool done GUARDED_BY(mu) = false;
    CondVar cv;
  };
  // Shared: a stuck `stop` outlives this function when the process exits.
  auto state = std::make_shared<Done>();
  std::thread t([stop = std::move(stop), state] {
    stop();
    MutexLock lock(state->mu);
    state->done = true;
    state->cv.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + kShutdownBound;
  bool done = false;
  {
    MutexLock lock(state->mu);
    while (!state->done && state->cv.wait_until(state->mu, deadline) !=
                               std::cv_status::timeout) {
    }
    done = state->done;
  }
  if (!done) {
    log::Error("shutdown did not finish in time; exiting anyway",
               {{"bound", std::to_string(kShutdownBound.count()) + "s"}});
    std::fflush(nullptr);
    std::_Exit(0);
  }
  t.join();
}

// The collectors fill the holders in `page` (violations, guest inventory,
// the status feeds) that the status page reads.
std::shared_ptr<ExporterCollectable> MakeExporter(
    const Flags& flags, const HostPaths& paths, const StatusPageSources& page) {
  const auto& isolation = page.isolation;
  const auto& violations = page.violations;
  CollectorDeps deps{flags,      paths,       isolation,
                     violations, page.guests, page.feeds};
  ExporterOptions options;
  options.build = BuildInfo{kVersion, kRevision};
  options.max_violation_info = flags.max_violation_info;
  options.exporter_metrics = flags.exporter_metrics;
  if (!flags.web_config_file.empty())
    options.config_sources.emplace_back("web_config", WebConfigLoadOk);
  return std::make_shared<ExporterCollectable>(
      options, isolation, MakeCollectors(deps), violations);
}

// nova.conf is re-read off the scrape path, on its own schedule and on
// SIGHUP; the self-confinement follows it, and a change wakes the census and
// disk workers.
std::unique_ptr<PeriodicWorker> MakeIsolationWorker(
    const Flags& flags, const std::shared_ptr<IsolationSource>& isolation,
    const std::shared_ptr<SelfConfinement>& confinement,
    const std::shared_ptr<ExporterCollectable>& collectable) {
  const auto first = isolation->Current();
  return std::make_unique<PeriodicWorker>(
      "isolation",
      [isolation, confinement, collectable,
       seen = std::make_pair(first->config_generation, first->roles_generation),
       every = std::chrono::duration<double>(
           flags.isolation_refresh_seconds)]() mutable {
        auto iso = isolation->Reload();
        confinement->Apply(*iso);
        const auto now =
            std::make_pair(iso->config_generation, iso->roles_generation);
        if (now != seen) {
          seen = now;
          collectable->ConfigChanged();
        }
        return std::chrono::duration_cast<PeriodicWorker::Clock::duration>(
            every);
      });
}

Expected<std::unique_ptr<HttpServer>> StartServer(
    const Flags& flags, const std::shared_ptr<StatusPage>& status_page,
    const std::shared_ptr<ExporterCollectable>& collectable) {
  HttpServerOptions web;
  web.listen_addresses = flags.listen_addresses;
  web.telemetry_path = flags.telemetry_path;
  web.web_config_file = flags.web_config_file;
  web.max_requests = flags.web_max_requests;
  web.max_connections = flags.web_max_connections;
  web.systemd_socket = flags.web_systemd_socket;
  HOSTISO_ASSIGN_OR_RETURN(
      auto server, HttpServer::Start(web, collectable,
                                     [status_page](std::string_view query) {
                                       return status_page->Render(query);
                                     }));
  std::string addresses = flags.web_systemd_socket ? "systemd socket" : "";
  for (const std::string& a : flags.listen_addresses) {
    if (flags.web_systemd_socket) break;
    addresses += (addresses.empty() ? "" : ",") + a;
  }
  log::Info("hostiso_exporter listening",
            {{"address", addresses},
             {"web_config",
              flags.web_config_file.empty() ? "none" : flags.web_config_file},
             {"version", kVersion},
             {"telemetry_path", flags.telemetry_path}});
  return server;
}

// Flags parsed, or the exit status: 2 for a bad flag, 0 after --help or
// --version.
std::variant<Flags, int> ParseCommandLine(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = ParseFlags(args);
  if (!flags) {
    std::fprintf(stderr, "hostiso_exporter: %s\n", flags.error().c_str());
    return 2;
  }
  if (flags->show_help) {
    std::cout << HelpText();
    return 0;
  }
  if (flags->show_version) {
    std::cout << "hostiso_exporter version " << kVersion << " (revision "
              << kRevision << ")\n";
    return 0;
  }
  return std::move(flags).value();
}

int Run(int argc, char** argv) {
  auto parsed = ParseCommandLine(argc, argv);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  const Flags& flags = std::get<Flags>(parsed);
  log::Configure(flags.log_level, flags.log_format);
  const sigset_t handled = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const HostPaths paths =
      HostPaths::Detect(flags.procfs, flags.sysfs, flags.rootfs);
  if (auto exist = CheckGuestCpusExist(flags, paths); !exist) {
    std::fprintf(stderr, "hostiso_exporter: %s\n", exist.error().c_str());
    return 2;
  }
  IsolationOptions iso_options;
  iso_options.paths = paths;
  iso_options.nova_config = flags.nova_config;
  iso_options.nova_config_explicit = flags.nova_config_explicit;
  iso_options.guest_cpus = flags.guest_cpus;
  auto isolation = std::make_shared<IsolationSource>(iso_options);
  auto first = isolation->Reload();
  // Before any thread starts: threads inherit the confinement.
  auto confinement =
      std::make_shared<SelfConfinement>(flags.confine_to_host_cpus);
  confinement->Apply(*first);

  StatusPageSources page{kVersion,
                         std::make_shared<const Flags>(flags),
                         isolation,
                         nullptr,
                         std::make_shared<ViolationRegistry>(),
                         std::make_shared<GuestInventoryHolder>(),
                         std::make_shared<StatusFeeds>()};
  auto collectable = MakeExporter(flags, paths, page);
  page.collectable = collectable;
  auto status_page = std::make_shared<StatusPage>(std::move(page));
  auto isolation_worker =
      MakeIsolationWorker(flags, isolation, confinement, collectable);
  isolation_worker->Start();
  collectable->StartCollectors();
  auto server = StartServer(flags, status_page, collectable);
  if (!server) {
    log::Error("cannot start HTTP server", {{"err", server.error()}});
    StopWithin([&] {
      isolation_worker->Stop(std::chrono::seconds(1));
      collectable->StopCollectors(std::chrono::seconds(2));
    });
    return 1;
  }
  ServeSignals(*isolation_worker);
  bool all_stopped = true;
  StopWithin([&] {
    server->reset();
    all_stopped = isolation_worker->Stop(std::chrono::seconds(1));
    all_stopped =
        collectable->StopCollectors(std::chrono::seconds(2)) && all_stopped;
  });
  if (!all_stopped) {
    // A worker left behind in a system call still uses its collector: exit
    // without running destructors under it.
    log::Warn("a worker did not stop; exiting without cleanup");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace
}  // namespace hostiso

int main(int argc, char** argv) {
  // A scrape's large buffers (the exposition text, the sched collector's map
  // reads: hundreds of KB on a big host) are allocated and freed in whichever
  // of the up to 1,024 web worker threads serves it. With glibc's dynamic mmap
  // threshold each such buffer, once freed, raises the threshold and later
  // ones stay cached in that thread's malloc arena: up to 16 arenas each
  // keeping about a megabyte. A fixed threshold hands them back to the kernel
  // when freed.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  // The guest sampler keeps each vCPU thread's /proc files open across
  // scrapes (KeptProcFiles: half the soft limit at most).
  hostiso::RaiseOpenFileLimit();
  // Nothing is expected to throw past Run(); if something does (allocation
  // failure), say so in one line instead of std::terminate's abort.
  try {
    return hostiso::Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hostiso_exporter: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "hostiso_exporter: fatal: unknown exception\n");
  }
  return 1;
}
