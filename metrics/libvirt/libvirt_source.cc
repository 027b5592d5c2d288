#include "metrics/libvirt/libvirt_source.h"

#include <libvirt/virterror.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "metrics/libvirt/domain_xml.h"
#include "metrics/mutex.h"
#include "metrics/procfs/qemu_process.h"
#include "metrics/procfs/read_file.h"
#include "metrics/procfs/task_status.h"
#include "metrics/text.h"

namespace hostiso {

using Clock = std::chrono::steady_clock;

namespace detail {

void InitLibvirtOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    // The default handler prints every error on stderr; ours stays quiet and
    // each caller logs through log::ErrorLatch instead.
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
  });
}

std::string LastLibvirtError() {
  const char* msg = virGetLastErrorMessage();
  return msg != nullptr ? msg : "unknown libvirt error";
}

}  // namespace detail

namespace {

// libvirt's default event loop is process-wide: it must be registered before
// the first connection and run by exactly one thread. Sources share it.
class EventLoop {
 public:
  static void Acquire() { Instance().AddRef(); }
  static void Release() { Instance().DropRef(); }

 private:
  static EventLoop& Instance() {
    static EventLoop loop;
    return loop;
  }
  void AddRef() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    static std::once_flag registered;
    std::call_once(registered, [] { virEventRegisterDefaultImpl(); });
    if (refs_++ == 0) {
      stop_.store(false);
      thread_ = std::thread([this] {
        while (!stop_.load()) {
          if (virEventRunDefaultImpl() < 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      });
    }
  }
  void DropRef() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (--refs_ != 0) return;
    stop_.store(true);
    // A zero timeout wakes virEventRunDefaultImpl's poll(); it removes itself.
    virEventAddTimeout(
        0, [](int timer, void*) { virEventRemoveTimeout(timer); }, nullptr,
        nullptr);
    if (thread_.joinable()) thread_.join();
  }

  Mutex mu_;
  int refs_ GUARDED_BY(mu_) = 0;
  std::thread thread_ GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};  // read by the loop thread without mu_
};

struct DomainListFree {
  virDomainPtr* doms = nullptr;
  int n = 0;
  ~DomainListFree() {
    for (int i = 0; i < n; ++i) virDomainFree(doms[i]);
    std::free(doms);
  }
};

CpuSet FromCpumap(const unsigned char* map, int maplen, int ncpus) {
  CpuSet set;
  for (int c = 0; c < ncpus && c < maplen * 8; ++c)
    if (VIR_CPU_USED(map, c)) set.Insert(c);
  return set;
}

bool ConnectionDead(virConnectPtr conn) { return virConnectIsAlive(conn) != 1; }

enum class DomainOutcome { kOk, kGone, kPartial };

// After a failed per-domain call: the domain went away, or that part stays
// empty.
DomainOutcome AfterFailure() {
  return virGetLastErrorCode() == VIR_ERR_NO_DOMAIN ? DomainOutcome::kGone
                                                    : DomainOutcome::kPartial;
}

// The worse of two outcomes (kGone > kPartial > kOk).
DomainOutcome Worse(DomainOutcome a, DomainOutcome b) {
  return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

// Name, UUID, Nova metadata (domain XML), and the live vCPU count and
// balloon size (virDomainGetInfo).
DomainOutcome FillIdentity(virDomainPtr dom, GuestDomain& g) {
  const char* name = virDomainGetName(dom);
  if (name == nullptr) return DomainOutcome::kGone;
  g.name = name;
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom, uuid) == 0) g.uuid = uuid;
  DomainOutcome outcome = DomainOutcome::kOk;
  DomainXml dx;
  if (char* xml = virDomainGetXMLDesc(dom, 0)) {
    auto parsed = ParseDomainXml(xml);
    std::free(xml);
    if (parsed) {
      dx = std::move(parsed).value();
    } else {
      outcome = DomainOutcome::kPartial;
    }
  } else {
    outcome = AfterFailure();
    if (outcome == DomainOutcome::kGone) return outcome;
  }
  g.instance_name = dx.nova.instance_name;
  g.flavor = dx.nova.flavor;
  g.project_id = dx.nova.project_id;
  g.project_name = dx.nova.project_name;
  g.cpu_policy = DeriveCpuPolicy(dx);
  g.hugepages_backed = dx.hugepages_backed;
  g.numatune_nodes = dx.numatune_nodes;
  g.numa_cells = dx.numa_cells;
  g.vcpu_count = dx.vcpus;
  g.memory_bytes = dx.memory_bytes;
  virDomainInfo info;
  if (virDomainGetInfo(dom, &info) != 0) return Worse(outcome, AfterFailure());
  // Live values: the vCPUs online now and the current balloon size.
  g.vcpu_count = static_cast<int>(info.nrVirtCpu);
  g.memory_bytes = static_cast<std::uint64_t>(info.memory) * 1024;
  return outcome;
}

// Each vCPU's live pinning as libvirt applied it and the CPU it last ran on.
// CPU maps are sized from virNodeGetInfo (the test driver's virNodeGetCPUMap
// always says 8 CPUs).
DomainOutcome FillVcpus(virDomainPtr dom, int ncpus, GuestDomain& g) {
  const int maplen = VIR_CPU_MAPLEN(ncpus);
  const int n = std::max(g.vcpu_count, 0);
  g.vcpus.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) g.vcpus[static_cast<std::size_t>(i)].index = i;
  if (n == 0) return DomainOutcome::kOk;
  DomainOutcome outcome = DomainOutcome::kOk;
  std::vector<unsigned char> maps(static_cast<std::size_t>(n) *
                                  static_cast<std::size_t>(maplen));
  int got = virDomainGetVcpuPinInfo(dom, n, maps.data(), maplen,
                                    VIR_DOMAIN_AFFECT_LIVE);
  if (got <= 0) {
    outcome = AfterFailure();
    if (outcome == DomainOutcome::kGone) return outcome;
  }
  for (int i = 0; i < std::min(got, n); ++i)
    g.vcpus[static_cast<std::size_t>(i)].affinity =
        FromCpumap(VIR_GET_CPUMAP(maps.data(), maplen, i), maplen, ncpus);
  std::vector<virVcpuInfo> vinfo(static_cast<std::size_t>(n));
  int vn = virDomainGetVcpus(dom, vinfo.data(), n, nullptr, 0);
  if (vn <= 0) return Worse(outcome, AfterFailure());
  for (int i = 0; i < vn; ++i) {
    const virVcpuInfo& vi = vinfo[static_cast<std::size_t>(i)];
    if (vi.number < static_cast<unsigned>(n))
      g.vcpus[vi.number].last_cpu = vi.cpu;
  }
  return outcome;
}

// Where the emulator and I/O threads may run.
DomainOutcome FillEmulatorAndIoThreads(virDomainPtr dom, int ncpus,
                                       GuestDomain& g) {
  const int maplen = VIR_CPU_MAPLEN(ncpus);
  DomainOutcome outcome = DomainOutcome::kOk;
  std::vector<unsigned char> emap(static_cast<std::size_t>(maplen));
  if (virDomainGetEmulatorPinInfo(dom, emap.data(), maplen,
                                  VIR_DOMAIN_AFFECT_LIVE) >= 0) {
    g.emulator_affinity = FromCpumap(emap.data(), maplen, ncpus);
  } else {
    outcome = AfterFailure();
    if (outcome == DomainOutcome::kGone) return outcome;
  }
  virDomainIOThreadInfoPtr* io = nullptr;
  int nio = virDomainGetIOThreadInfo(dom, &io, VIR_DOMAIN_AFFECT_LIVE);
  if (nio < 0) {
    // Drivers without I/O threads say "unsupported": not an error.
    const int code = virGetLastErrorCode();
    if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_OPERATION_UNSUPPORTED)
      return outcome;
    return Worse(outcome, AfterFailure());
  }
  std::vector<std::pair<unsigned, CpuSet>> threads;
  for (int i = 0; i < nio; ++i) {
    threads.emplace_back(io[i]->iothread_id,
                         FromCpumap(io[i]->cpumap, io[i]->cpumaplen, ncpus));
    virDomainIOThreadInfoFree(io[i]);
  }
  std::free(io);
  std::sort(threads.begin(), threads.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& t : threads) g.iothread_affinity.push_back(std::move(t.second));
  return outcome;
}

// QEMU's pid and vCPU threads: libvirtd's status file first (exact), then
// the QEMU command line ("-name guest=NAME,...") and task comms.
void FindQemuThreads(
    const LibvirtOptions& opts,
    const std::function<const std::map<std::string, pid_t>&()>& qemu_procs,
    GuestDomain& g) {
  std::map<int, pid_t> tids;
  if (!opts.run_dir.empty()) {
    if (auto text = ReadFile(opts.run_dir + "/" + g.name + ".xml")) {
      if (auto st = ParseDomStatus(*text)) {
        g.qemu_pid = st->pid;
        tids = st->vcpu_tids;
      }
    }
  }
  if (g.qemu_pid == 0) {
    const auto& procs = qemu_procs();
    if (auto it = procs.find(g.name); it != procs.end())
      g.qemu_pid = it->second;
  }
  if (g.qemu_pid != 0 && tids.empty())
    tids = FindVcpuThreads(opts.procfs, g.qemu_pid);
  for (GuestVcpu& v : g.vcpus) {
    if (auto it = tids.find(v.index); it != tids.end()) v.tid = it->second;
  }
  // Where the kernel lets QEMU allocate: one small read per guest per
  // refresh, not per scrape (the cpuset changes only when libvirt changes
  // it). An unreadable file (QEMU just exited) leaves it unknown.
  if (g.qemu_pid != 0) {
    if (auto mems = ReadAndParse(
            JoinPath(opts.procfs, std::to_string(g.qemu_pid) + "/status"),
            [](const std::string& t) { return ParseMemsAllowedList(t); }))
      g.mems_allowed = *mems;
  }
}

// Fills one running domain. Per-call failures leave that part empty
// (kPartial); a domain that disappeared mid-refresh is kGone.
DomainOutcome FillDomain(
    virDomainPtr dom, int ncpus, const LibvirtOptions& opts,
    const std::function<const std::map<std::string, pid_t>&()>& qemu_procs,
    GuestDomain& g) {
  DomainOutcome outcome = FillIdentity(dom, g);
  if (outcome == DomainOutcome::kGone) return outcome;
  outcome = Worse(outcome, FillVcpus(dom, ncpus, g));
  if (outcome == DomainOutcome::kGone) return outcome;
  outcome = Worse(outcome, FillEmulatorAndIoThreads(dom, ncpus, g));
  if (outcome == DomainOutcome::kGone) return outcome;
  FindQemuThreads(opts, qemu_procs, g);
  return outcome;
}

// vcpu.N.time / vcpu.N.delay for the domains whose vCPU threads are unknown.
void FetchBulkStats(const std::vector<virDomainPtr>& doms,
                    LibvirtSnapshot& snap) {
  if (doms.empty()) return;
  std::vector<virDomainPtr> list = doms;
  list.push_back(nullptr);
  virDomainStatsRecordPtr* recs = nullptr;
  // NOWAIT: skip a domain whose monitor is busy instead of queueing behind it.
  int n = virDomainListGetStats(list.data(), VIR_DOMAIN_STATS_VCPU, &recs,
                                VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
  if (n < 0) return;
  for (int i = 0; i < n; ++i) {
    const char* name = virDomainGetName(recs[i]->dom);
    if (name == nullptr) continue;
    auto& per_vcpu = snap.bulk[name];
    for (int p = 0; p < recs[i]->nparams; ++p) {
      const virTypedParameter& tp = recs[i]->params[p];
      std::string_view field(tp.field);
      if (field.substr(0, 5) != "vcpu." || tp.type != VIR_TYPED_PARAM_ULLONG)
        continue;
      auto parts = Split(field, '.');
      if (parts.size() != 3) continue;
      auto idx = ParseUint(parts[1]);
      if (!idx || *idx > 100000) continue;
      VcpuBulkStats& s = per_vcpu[static_cast<int>(*idx)];
      if (parts[2] == "time") s.time_ns = tp.value.ul;
      if (parts[2] == "delay") s.delay_ns = tp.value.ul;
    }
  }
  virDomainStatsRecordListFree(recs);
}

}  // namespace

namespace detail {

Expected<LibvirtSnapshot> RefreshDomains(virConnectPtr conn,
                                         const LibvirtOptions& opts,
                                         Clock::time_point deadline) {
  using E = Expected<LibvirtSnapshot>;
  const auto start = Clock::now();
  virNodeInfo node;
  if (virNodeGetInfo(conn, &node) < 0)
    return E::Error("virNodeGetInfo: " + LastLibvirtError());
  int ncpus = static_cast<int>(VIR_NODEINFO_MAXCPUS(node));
  ncpus = std::max(ncpus, virNodeGetCPUMap(conn, nullptr, nullptr, 0));
  ncpus = std::clamp(ncpus, 1, CpuSet::kMaxCpus);

  DomainListFree list;
  list.n = virConnectListAllDomains(conn, &list.doms,
                                    VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (list.n < 0) {
    list.n = 0;
    return E::Error("virConnectListAllDomains: " + LastLibvirtError());
  }

  std::optional<std::map<std::string, pid_t>> procs;
  auto qemu_procs = [&]() -> const std::map<std::string, pid_t>& {
    if (!procs) procs = ScanQemuProcesses(opts.procfs);
    return *procs;
  };

  LibvirtSnapshot snap;
  auto inv = std::make_shared<GuestInventory>();
  inv->source = "libvirt";
  inv->domains.reserve(static_cast<std::size_t>(list.n));
  std::vector<virDomainPtr> need_bulk;
  for (int i = 0; i < list.n; ++i) {
    if (Clock::now() > deadline)
      return E::Error("refresh deadline exceeded after " + std::to_string(i) +
                      " of " + std::to_string(list.n) + " domains");
    GuestDomain g;
    DomainOutcome outcome =
        FillDomain(list.doms[i], ncpus, opts, qemu_procs, g);
    if (outcome != DomainOutcome::kOk) {
      if (ConnectionDead(conn))
        return E::Error("connection lost: " + LastLibvirtError());
      ++snap.domain_errors;
      if (outcome == DomainOutcome::kGone) continue;
    }
    bool all_tids = std::all_of(g.vcpus.begin(), g.vcpus.end(),
                                [](const GuestVcpu& v) { return v.tid != 0; });
    if (!all_tids) need_bulk.push_back(list.doms[i]);
    inv->domains.push_back(std::move(g));
  }
  if (Clock::now() > deadline)
    return E::Error("refresh deadline exceeded in the last domain");
  // libvirt lists domains in no stable order: sort them, so the exposition
  // (and every detector's subject list) is the same from one refresh to the
  // next.
  std::sort(inv->domains.begin(), inv->domains.end(),
            [](const GuestDomain& a, const GuestDomain& b) {
              return a.name < b.name;
            });
  FetchBulkStats(need_bulk, snap);
  if (ConnectionDead(conn))
    return E::Error("connection lost: " + LastLibvirtError());
  if (Clock::now() > deadline)
    return E::Error("refresh deadline exceeded in bulk stats");

  auto now = Clock::now();
  inv->taken = now;
  snap.inventory = std::move(inv);
  snap.taken = now;
  snap.duration_seconds = std::chrono::duration<double>(now - start).count();
  return snap;
}

}  // namespace detail

// The worker's state. `status` and its flags are shared with scrapes and
// libvirt's callbacks under `mu`; the connection is the worker thread's.
struct LibvirtSource::Core {
  LibvirtOptions options;
  std::shared_ptr<GuestInventoryHolder> holder;
  std::function<void()> wake;  // PeriodicWorker::TriggerHandle()

  mutable Mutex mu;
  mutable CondVar cv;
  bool closed GUARDED_BY(mu) = false;  // the close callback fired
  bool up GUARDED_BY(mu) = false;
  std::shared_ptr<const LibvirtSnapshot> last_good GUARDED_BY(mu);
  std::string error GUARDED_BY(mu);
  std::uint64_t refreshes GUARDED_BY(mu) = 0;
  std::uint64_t failures GUARDED_BY(mu) = 0;
  std::uint64_t connects GUARDED_BY(mu) = 0;
  bool in_refresh GUARDED_BY(mu) = false;
  Clock::time_point refresh_started GUARDED_BY(mu){};

  // Worker-thread only.
  virConnectPtr conn = nullptr;
  int lifecycle_callback_id = -1;
  bool close_callback_registered = false;
  Clock::duration backoff = std::chrono::seconds(1);
  log::ErrorLatch latch{"libvirt"};

  // One step of the worker: (re)connect, refresh, and how long to wait.
  Clock::duration Step();
  bool Connect();
  void Disconnect();
  void Fail(const std::string& error);
  bool Closed() const {
    MutexLock lock(mu);
    return closed;
  }
  Clock::duration NextBackoff() {
    const Clock::duration now = backoff;
    const auto max = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.max_backoff_seconds));
    backoff = std::min(backoff * 2, max);
    return now;
  }
  // virConnectRegisterCloseCallback's callback; `opaque` is the Core.
  static void OnClose(virConnectPtr conn, int reason, void* opaque);
};

void LibvirtSource::Core::Fail(const std::string& message) {
  latch.Fail(message);
  MutexLock lock(mu);
  up = false;
  error = message;
  ++failures;
  cv.notify_all();
}

void LibvirtSource::Core::OnClose(virConnectPtr /*conn*/, int /*reason*/,
                                  void* opaque) {
  auto* core = static_cast<Core*>(opaque);
  {
    MutexLock lock(core->mu);
    core->closed = true;
    core->up = false;
    core->error = "connection to libvirt closed";
  }
  core->wake();
}

bool LibvirtSource::Core::Connect() {
  {
    MutexLock lock(mu);
    closed = false;
  }
  conn = virConnectOpenReadOnly(options.uri.c_str());
  if (conn == nullptr) {
    Fail("connecting to " + options.uri + ": " + detail::LastLibvirtError());
    return false;
  }
  if (options.events) {
    // Keep-alive probes answered by the daemon's event loop: a daemon that
    // stops answering is disconnected after interval x (count + 1) seconds,
    // which also unblocks a call stuck on it. Drivers without keep-alive
    // (test://) return 1 or fail: fine.
    int interval =
        std::max(1, static_cast<int>(std::ceil(options.timeout_seconds)));
    virConnectSetKeepAlive(conn, interval, 2);
    // The close callback gets a plain pointer and no free function: libvirt
    // runs it under the lock virConnectUnregisterCloseCallback takes, so after
    // Disconnect() it can no longer run, and the core outlives the
    // connection.
    if (virConnectRegisterCloseCallback(conn, &Core::OnClose, this, nullptr) ==
        0) {
      close_callback_registered = true;
    }
    // Domain events may still be dispatching when deregistered; libvirt calls
    // the free function once they are done, so they hold their own wake
    // handle.
    auto* opaque = new std::function<void()>(wake);
    auto free_opaque = [](void* p) {
      delete static_cast<std::function<void()>*>(p);
    };
    virConnectDomainEventCallback on_lifecycle = [](virConnectPtr, virDomainPtr,
                                                    int, int, void* p) -> int {
      (*static_cast<std::function<void()>*>(p))();
      return 0;
    };
    // libvirt takes every event callback as the generic type; going through
    // void(*)() keeps -Wcast-function-type quiet about it.
    lifecycle_callback_id = virConnectDomainEventRegisterAny(
        conn, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        reinterpret_cast<virConnectDomainEventGenericCallback>(
            reinterpret_cast<void (*)()>(on_lifecycle)),
        opaque, free_opaque);
    if (lifecycle_callback_id < 0) delete opaque;
  }
  {
    MutexLock lock(mu);
    ++connects;
  }
  log::Info("connected to libvirt", {{"uri", options.uri}});
  return true;
}

void LibvirtSource::Core::Disconnect() {
  if (conn == nullptr) return;
  if (lifecycle_callback_id >= 0) {
    virConnectDomainEventDeregisterAny(conn, lifecycle_callback_id);
    lifecycle_callback_id = -1;
  }
  if (close_callback_registered) {
    // libvirt only unregisters when given the registered function.
    virConnectUnregisterCloseCallback(conn, &Core::OnClose);
    close_callback_registered = false;
  }
  virConnectClose(conn);
  conn = nullptr;
}

Clock::duration LibvirtSource::Core::Step() {
  if (conn != nullptr && Closed()) {
    Disconnect();
    log::Warn("libvirt connection closed; reconnecting",
              {{"uri", options.uri}});
  }
  if (conn == nullptr) {
    if (!Connect()) return NextBackoff();
    backoff = std::chrono::seconds(1);
  }
  const Clock::time_point started = Clock::now();
  {
    MutexLock lock(mu);
    in_refresh = true;
    refresh_started = started;
  }
  const auto deadline =
      started + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(options.timeout_seconds));
  auto result = detail::RefreshDomains(conn, options, deadline);
  {
    MutexLock lock(mu);
    in_refresh = false;
  }
  const bool refreshed = result.ok();
  if (refreshed) {
    auto snap =
        std::make_shared<const LibvirtSnapshot>(std::move(result).value());
    if (holder) holder->Publish(snap->inventory);
    latch.Ok();
    MutexLock lock(mu);
    up = !closed;
    last_good = std::move(snap);
    error.clear();
    ++refreshes;
    cv.notify_all();
  } else {
    Fail(result.error());
  }
  if (ConnectionDead(conn) || Closed()) {
    Disconnect();
    log::Warn("libvirt connection lost; reconnecting", {{"uri", options.uri}});
    return NextBackoff();
  }
  if (!refreshed) return NextBackoff();
  const auto every = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.refresh_seconds));
  const Clock::duration spent = Clock::now() - started;
  return spent < every ? every - spent : Clock::duration::zero();
}

LibvirtSource::LibvirtSource(LibvirtOptions options,
                             std::shared_ptr<GuestInventoryHolder> holder)
    : core_(std::make_shared<Core>()),
      // Lifecycle events trigger a refresh; at most one a second, so an
      // event burst costs one refresh.
      worker_(
          "libvirt", [core = core_] { return core->Step(); },
          std::chrono::seconds(1)) {
  core_->options = std::move(options);
  core_->holder = std::move(holder);
  core_->wake = worker_.TriggerHandle();
}

LibvirtSource::~LibvirtSource() { Stop(); }

const LibvirtOptions& LibvirtSource::Options() const { return core_->options; }

void LibvirtSource::Start() {
  detail::InitLibvirtOnce();
  if (core_->options.events && !event_loop_acquired_) {
    EventLoop::Acquire();
    event_loop_acquired_ = true;
  }
  // The connection is closed by the worker thread when it ends.
  worker_.Start();
}

bool LibvirtSource::Stop(std::chrono::milliseconds grace) {
  const bool stopped = worker_.Stop(grace);
  if (stopped) core_->Disconnect();
  if (event_loop_acquired_) {
    EventLoop::Release();
    event_loop_acquired_ = false;
  }
  return stopped;
}

LibvirtStatus LibvirtSource::Current() const {
  MutexLock lock(core_->mu);
  LibvirtStatus st;
  st.up = core_->up;
  st.last_good = core_->last_good;
  st.error = core_->error;
  st.refreshes = core_->refreshes;
  st.failures = core_->failures;
  st.connects = core_->connects;
  // A refresh stuck in a libvirt call past its deadline: libvirt is not
  // answering, whatever the last refresh said.
  if (core_->in_refresh &&
      Clock::now() - core_->refresh_started >
          std::chrono::duration<double>(core_->options.timeout_seconds)) {
    st.up = false;
    st.error = "refresh exceeded the deadline of " +
               std::to_string(core_->options.timeout_seconds) + "s";
  }
  return st;
}

bool LibvirtSource::WaitForAttempts(std::uint64_t attempts,
                                    std::chrono::milliseconds timeout) const {
  MutexLock lock(core_->mu);
  const auto deadline = Clock::now() + timeout;
  while (core_->refreshes + core_->failures <= attempts) {
    if (Clock::now() >= deadline) return false;
    core_->cv.wait_until(core_->mu, deadline);
  }
  return true;
}

}  // namespace hostiso
