#include <memory>

#include "exporter/component_registration.h"
#include "metrics/libvirt/libvirt_collector.h"
#include "metrics/libvirt/libvirt_source.h"

namespace hostiso {

void RegisterLibvirtCollectors(const Flags& flags, const ComponentDeps& deps,
                               CollectorSet& set) {
  if (flags.collectors.count("libvirt") == 0) return;
  LibvirtOptions options;
  options.uri = flags.libvirt_uri;
  options.timeout_seconds = flags.libvirt_timeout_seconds;
  options.refresh_seconds = flags.libvirt_refresh_seconds;
  options.procfs = flags.procfs;
  // libvirtd's status files hold real pids: only meaningful for the system
  // QEMU driver on the real /proc (not a fixture root).
  if (flags.procfs != "/proc" ||
      flags.libvirt_uri.rfind("qemu:///system", 0) != 0)
    options.run_dir.clear();
  auto source = std::make_shared<LibvirtSource>(options, deps.guests);
  source->Start();
  set.collectors.emplace_back(std::make_unique<LibvirtCollector>(
      source, flags.procfs, flags.libvirt_refresh_seconds));
  set.stoppers.emplace_back([source] { source->Stop(); });
}

}  // namespace hostiso
