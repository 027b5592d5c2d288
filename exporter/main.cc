// hostiso_exporter: Prometheus exporter for host/guest isolation on KVM hosts.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "exporter/collector_factory.h"
#include "exporter/flags.h"
#include "exporter/http_server.h"
#include "exporter/landing_page.h"
#include "exporter/self_affinity.h"
#include "exporter/version.h"
#include "metrics/exporter_collectable.h"
#include "metrics/isolation_source.h"
#include "metrics/log.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int /*sig*/) { g_stop = 1; }

// Keeps the exporter's threads on host-role CPUs, re-applying when the roles
// change (nova.conf edited). No-op when no guest set is known or no host CPU
// is left (then there is nowhere better to run).
class SelfConfinement {
 public:
  explicit SelfConfinement(bool enabled) : enabled_(enabled) {}
  void Apply(const hostiso::IsolationSnapshot& iso) {
    if (!enabled_ || iso.roles_generation == applied_generation_) return;
    applied_generation_ = iso.roles_generation;
    const hostiso::CpuSet host =
        iso.roles.HostCpus().Intersect(iso.topology.online);
    if (!iso.roles.IsolationConfigured() || host.Empty()) return;
    std::string error;
    if (hostiso::ConfineProcessToCpus(host, &error)) {
      hostiso::log::Info("confined the exporter to host-role CPUs",
                         {{"cpus", host.ToString()}});
    } else {
      hostiso::log::Warn("could not confine the exporter to host-role CPUs",
                         {{"err", error}});
    }
  }

 private:
  bool enabled_;
  std::uint64_t applied_generation_ = ~std::uint64_t{0};
};

}  // namespace

namespace {

int Run(int argc, char** argv) {
  using namespace hostiso;
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
  log::Configure(flags->log_level, flags->log_format);

  IsolationOptions iso_options;
  iso_options.procfs = flags->procfs;
  iso_options.sysfs = flags->sysfs;
  iso_options.nova_config = flags->nova_config;
  iso_options.nova_config_explicit = flags->nova_config_explicit;
  iso_options.guest_cpus = flags->guest_cpus;
  auto isolation = std::make_shared<IsolationSource>(iso_options);
  // Before any thread starts: threads inherit the confinement.
  SelfConfinement confinement(flags->confine_to_host_cpus);
  confinement.Apply(*isolation->Refresh());

  auto violations = std::make_shared<ViolationRegistry>();
  CollectorSet collectors = MakeCollectors(*flags, isolation, violations);
  auto collectable = std::make_shared<ExporterCollectable>(
      BuildInfo{kVersion, kRevision}, isolation,
      std::move(collectors.collectors), violations, flags->max_violation_info);

  const Flags& f = *flags;
  HttpServerOptions web;
  web.listen_addresses = flags->listen_addresses;
  web.telemetry_path = flags->telemetry_path;
  web.web_config_file = flags->web_config_file;
  web.max_requests = flags->web_max_requests;
  web.max_connections = flags->web_max_connections;
  web.systemd_socket = flags->web_systemd_socket;
  auto server = HttpServer::Start(web, collectable, [&f, isolation] {
    return RenderLandingPage(kVersion, f, *isolation->Current());
  });
  if (!server) {
    log::Error("cannot start HTTP server", {{"err", server.error()}});
    return 1;
  }
  std::string addresses = flags->web_systemd_socket ? "systemd socket" : "";
  for (const std::string& a : flags->listen_addresses) {
    if (flags->web_systemd_socket) break;
    addresses += (addresses.empty() ? "" : ",") + a;
  }
  log::Info("hostiso_exporter listening",
            {{"address", addresses},
             {"web_config",
              flags->web_config_file.empty() ? "none" : flags->web_config_file},
             {"version", kVersion},
             {"telemetry_path", flags->telemetry_path}});

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  while (g_stop == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    confinement.Apply(*isolation->Current());
  }
  log::Info("shutting down");
  collectors.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing is expected to throw past Run(); if something does (allocation
  // failure), say so in one line instead of std::terminate's abort.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hostiso_exporter: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "hostiso_exporter: fatal: unknown exception\n");
  }
  return 1;
}
