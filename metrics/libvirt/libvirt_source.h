#pragma once

#include <libvirt/libvirt.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "metrics/expected.h"
#include "metrics/guest_inventory.h"
#include "metrics/log.h"

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

// Owns the libvirt worker thread: a read-only connection that is re-opened
// with exponential backoff whenever libvirtd is absent, stops or restarts.
// Every libvirt call of the exporter runs on that thread.
class LibvirtSource {
 public:
  // `holder` (may be null) receives every successful refresh's inventory.
  LibvirtSource(LibvirtOptions options,
                std::shared_ptr<GuestInventoryHolder> holder);
  ~LibvirtSource();
  LibvirtSource(const LibvirtSource&) = delete;
  LibvirtSource& operator=(const LibvirtSource&) = delete;

  void Start();
  void Stop();  // idempotent; joins the worker
  void TriggerRefresh();
  // Never blocks on libvirt: a mutex around a few fields.
  LibvirtStatus Current() const;
  // For tests: waits until more than `attempts` refresh attempts finished.
  bool WaitForAttempts(std::uint64_t attempts,
                       std::chrono::milliseconds timeout) const;
  const LibvirtOptions& Options() const { return options_; }

 private:
  // State shared with libvirt callbacks (they may outlive `this` briefly:
  // libvirt frees its reference through the callbacks' free function).
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    bool trigger = false;
    bool closed = false;  // the close callback fired for the current connection
    // Status.
    bool up = false;
    std::shared_ptr<const LibvirtSnapshot> last_good;
    std::string error;
    std::uint64_t refreshes = 0, failures = 0, connects = 0;
    bool in_refresh = false;
    std::chrono::steady_clock::time_point refresh_started{};
  };

  // virConnectRegisterCloseCallback's callback; `opaque` is the Shared.
  static void OnClose(virConnectPtr conn, int reason, void* opaque);
  void Run();
  bool Connect();
  void Disconnect();
  void Fail(const std::string& error);
  // Waits until `until`, a trigger, a closed connection or Stop(); false on
  // Stop().
  bool WaitUntil(std::chrono::steady_clock::time_point until,
                 bool wake_on_trigger);

  LibvirtOptions options_;
  std::shared_ptr<GuestInventoryHolder> holder_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::thread worker_;
  bool started_ = false;
  bool event_loop_acquired_ = false;
  // Worker-thread only.
  virConnectPtr conn_ = nullptr;
  int lifecycle_callback_id_ = -1;
  bool close_callback_registered_ = false;
  log::ErrorLatch latch_{"libvirt"};
};

}  // namespace hostiso
