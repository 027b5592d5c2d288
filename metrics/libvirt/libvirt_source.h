#pragma once

#include <libvirt/libvirt.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "metrics/expected.h"
#include "metrics/guest_inventory.h"
#include "metrics/log.h"
#include "metrics/periodic_worker.h"

namespace hostiso {

struct LibvirtOptions {
  std::string uri = "qemu:///system";
  // Deadline for one refresh; past it the refresh is abandoned (between two
  // libvirt calls) and hostiso_libvirt_up reads 0 even while a call hangs.
  double timeout_seconds = 5;
  double refresh_seconds = 30;
  std::string procfs = "/proc";
  // libvirtd's live state files (<domstatus pid=...>), root only; "" to skip
  // them and find QEMU by its command line in procfs.
  std::string run_dir = "/run/libvirt/qemu";
  // Run libvirt's default event loop: close callback (reconnect at once when
  // libvirtd goes away), keep-alive (notice a hung daemon) and domain
  // lifecycle events (refresh when a guest starts or stops).
  bool events = true;
  double max_backoff_seconds = 30;
};

// libvirt bulk stats of one vCPU (VIR_DOMAIN_STATS_VCPU: vcpu.N.time and
// vcpu.N.delay, ns), the fallback when the vCPU thread is unknown.
struct VcpuBulkStats {
  std::optional<std::uint64_t> time_ns;
  std::optional<std::uint64_t> delay_ns;
};

// The result of one successful refresh. Immutable once published.
struct LibvirtSnapshot {
  std::shared_ptr<const GuestInventory> inventory =
      std::make_shared<GuestInventory>();
  // Only for domains with vCPUs whose thread id is unknown: name -> index ->
  // stats.
  std::map<std::string, std::map<int, VcpuBulkStats>> bulk;
  std::chrono::steady_clock::time_point taken{};
  double duration_seconds = 0;
  int domain_errors =
      0;  // domains skipped or left partial by a per-domain error
};

// What a scrape sees; copying it never touches libvirt.
struct LibvirtStatus {
  bool up = false;
  std::shared_ptr<const LibvirtSnapshot>
      last_good;  // null before the first success
  std::string error;
  std::uint64_t refreshes = 0;  // successful
  std::uint64_t failures = 0;   // failed connects and refreshes
  std::uint64_t connects = 0;
};

namespace detail {
// virInitialize() and a silent default error handler (libvirt prints every
// error on stderr otherwise); errors are read with virGetLastErrorMessage().
void InitLibvirtOnce();
std::string LastLibvirtError();
// One refresh on `conn`, on the calling thread. Fails when the connection
// fails or the deadline passes; one broken domain only bumps domain_errors.
Expected<LibvirtSnapshot> RefreshDomains(
    virConnectPtr conn, const LibvirtOptions& opts,
    std::chrono::steady_clock::time_point deadline);
}  // namespace detail

// Owns the libvirt worker (a PeriodicWorker): a read-only connection that is
// re-opened with exponential backoff whenever libvirtd is absent, stops or
// restarts. Every libvirt call of the exporter runs on that thread. Domain
// lifecycle events and the connection's close callback trigger a refresh (at
// most one a second). Everything the worker thread touches lives in a shared
// core, so a worker left behind by Stop() (stuck in a libvirt call) never
// touches a destroyed object.
class LibvirtSource {
 public:
  // `holder` (may be null) receives every successful refresh's inventory.
  LibvirtSource(LibvirtOptions options,
                std::shared_ptr<GuestInventoryHolder> holder);
  ~LibvirtSource();
  LibvirtSource(const LibvirtSource&) = delete;
  LibvirtSource& operator=(const LibvirtSource&) = delete;

  void Start();
  // Idempotent; waits at most `grace` for the worker.
  bool Stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
  void TriggerRefresh() { worker_.Trigger(); }
  // Never blocks on libvirt: a mutex around a few fields.
  LibvirtStatus Current() const;
  // For tests: waits until more than `attempts` refresh attempts finished.
  bool WaitForAttempts(std::uint64_t attempts,
                       std::chrono::milliseconds timeout) const;
  const LibvirtOptions& Options() const;

  struct Core;

 private:
  std::shared_ptr<Core> core_;
  PeriodicWorker worker_;
  bool event_loop_acquired_ = false;
};

}  // namespace hostiso
