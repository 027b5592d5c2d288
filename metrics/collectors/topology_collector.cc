#include "metrics/collectors/topology_collector.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

#include "metrics/detectors/topology_detectors.h"
#include "metrics/family_builder.h"

namespace hostiso {

namespace {

// `n` as label text in `buf`, without a std::string per label.
std::string_view FormatInt(char (&buf)[16], int n) {
  const char* end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  return {buf, static_cast<std::size_t>(end - buf)};
}

prometheus::MetricFamily TopologyInfo(const CpuLayout& layout) {
  auto info = FamilyBuilder::Gauge(
      "hostiso_cpu_topology_info",
      "Where each online CPU sits (sysfs topology and node cpulists); SMT "
      "siblings share package and core.");
  info.Reserve(layout.cpus.size());
  char cpu[16], package[16], core[16], node[16];
  for (const CpuPlace& p : layout.cpus) {
    info.Add({{"cpu", FormatInt(cpu, p.cpu)},
              {"package", FormatInt(package, p.package)},
              {"core", FormatInt(core, p.core)},
              {"numa_node", FormatInt(node, p.numa_node)}},
             1);
  }
  return std::move(info).Build();
}

void AppendNodeMemory(const std::vector<NumaNodeMemory>& nodes,
                      std::vector<prometheus::MetricFamily>& out) {
  auto total =
      FamilyBuilder::Gauge("hostiso_numa_memory_total_bytes",
                           "MemTotal of the NUMA node (nodeN/meminfo).");
  auto free = FamilyBuilder::Gauge("hostiso_numa_memory_free_bytes",
                                   "MemFree of the NUMA node (nodeN/meminfo).");
  auto pool = FamilyBuilder::Gauge(
      "hostiso_numa_hugepages_pool_bytes",
      "Huge page pool of the NUMA node (nr_hugepages x size), by page size.");
  auto pool_free = FamilyBuilder::Gauge(
      "hostiso_numa_hugepages_free_bytes",
      "Free huge pages of the NUMA node (free_hugepages x size), by page "
      "size.");
  for (const NumaNodeMemory& n : nodes) {
    const std::string node = std::to_string(n.node);
    total.Add({{"node", node}}, static_cast<double>(n.meminfo.total_bytes));
    free.Add({{"node", node}}, static_cast<double>(n.meminfo.free_bytes));
    for (const HugePagePool& p : n.hugepages) {
      const std::string size = std::to_string(p.page_size_bytes);
      pool.Add({{"node", node}, {"page_size", size}},
               static_cast<double>(p.TotalBytes()));
      pool_free.Add({{"node", node}, {"page_size", size}},
                    static_cast<double>(p.FreeBytes()));
    }
  }
  std::move(total).AppendTo(out);
  std::move(free).AppendTo(out);
  std::move(pool).AppendTo(out);
  std::move(pool_free).AppendTo(out);
}

std::map<int, double> ReservedHugePagesByNode(const NovaConfig& nova) {
  std::map<int, double> reserved;
  for (const ReservedHugePages& r : nova.reserved_huge_pages) {
    reserved[r.node] +=
        static_cast<double>(r.count) * static_cast<double>(r.size_kib) * 1024.0;
  }
  return reserved;
}

void AppendReservation(const std::map<int, double>& reserved,
                       const std::optional<std::map<int, double>>& host_used,
                       std::vector<prometheus::MetricFamily>& out) {
  auto res = FamilyBuilder::Gauge(
      "hostiso_numa_hugepages_reserved_bytes",
      "Huge pages nova.conf reserves for the host on the NUMA node "
      "(reserved_huge_pages count x size, all sizes).");
  auto headroom = FamilyBuilder::Gauge(
      "hostiso_numa_hugepages_reserve_headroom_bytes",
      "Reserved huge pages of the NUMA node minus those the host uses there; "
      "negative: the host is eating the node's guest huge pages.");
  for (const auto& [node, bytes] : reserved) {
    res.Add({{"node", std::to_string(node)}}, bytes);
    if (!host_used) continue;
    auto it = host_used->find(node);
    if (it != host_used->end())
      headroom.Add({{"node", std::to_string(node)}}, bytes - it->second);
  }
  std::move(res).AppendTo(out);
  std::move(headroom).AppendTo(out);
}

// The guest-role CPUs host threads ran on in the last census (the registry
// keeps host_task_on_guest_cpu under the census' stale policy).
CpuSet IntrudedCpus(const ViolationRegistry& violations) {
  CpuSet cpus;
  for (const Violation& v :
       violations.Current(ViolationKind::kHostTaskOnGuestCpu))
    cpus = cpus.Union(v.cpus);
  return cpus;
}

}  // namespace

namespace detail {

std::optional<std::map<int, double>> HostHugePagesByNode(
    const std::vector<NumaNodeMemory>& nodes, const GuestInventory& guests,
    const CpuLayout& layout) {
  std::map<int, double> guest_bytes;
  for (const GuestDomain& d : guests.domains) {
    if (!d.hugepages_backed) continue;
    const std::optional<CpuSet> memory = GuestMemoryNodes(d, layout);
    if (!memory || memory->Count() != 1) return std::nullopt;
    guest_bytes[memory->Members().front()] +=
        static_cast<double>(d.memory_bytes);
  }
  std::map<int, double> host;
  for (const NumaNodeMemory& n : nodes) {
    double used = 0;
    // free above nr (a pool shrinking under the read) counts as none used.
    for (const HugePagePool& p : n.hugepages)
      used += static_cast<double>(p.TotalBytes() -
                                  std::min(p.FreeBytes(), p.TotalBytes()));
    host[n.node] = std::max(0.0, used - guest_bytes[n.node]);
  }
  return host;
}

}  // namespace detail

TopologyCollector::TopologyCollector(
    TopologyOptions options, std::shared_ptr<const GuestInventoryHolder> guests)
    : options_(std::move(options)),
      guests_(std::move(guests)),
      node_kept_(options_.keep_files) {}

Expected<std::shared_ptr<const CpuLayout>> TopologyCollector::CurrentLayout(
    const CpuSet& online) {
  const Clock::time_point now = Clock::now();
  if (layout_ && online == layout_online_ &&
      now - layout_read_at_ < options_.layout_max_age)
    return layout_;
  ++layout_reads_;
  auto read = ReadCpuLayout(options_.paths.sysfs, online);
  if (!read) {
    layout_.reset();
    return read.failure();
  }
  layout_ = std::make_shared<const CpuLayout>(std::move(read).value());
  // Nodes come and go only with the layout: list their files again.
  node_files_.clear();
  layout_online_ = online;
  layout_read_at_ = now;
  return layout_;
}

const std::shared_ptr<const RenderedFamily>& TopologyCollector::InfoFamily(
    const std::shared_ptr<const CpuLayout>& layout) {
  // The layout is immutable once published, and a new read is a new object:
  // holding it makes pointer equality mean "the same layout".
  if (info_layout_ != layout) {
    info_ = RenderedFamily::Make(TopologyInfo(*layout));
    info_layout_ = layout;
  }
  return info_;
}

std::vector<NumaNodeMemory> TopologyCollector::ReadNodes(
    const CpuLayout& layout, std::optional<Error>& error) {
  std::vector<NumaNodeMemory> nodes;
  // A kernel without NUMA has no node directories to read.
  if (!layout.numa_from_sysfs) return nodes;
  nodes.reserve(layout.nodes.size());
  for (const auto& [node, cpus] : layout.nodes) {
    auto files = node_files_.find(node);
    if (files == node_files_.end()) {
      auto listed = ListNumaNodeFiles(options_.paths.sysfs, node);
      if (!listed) {
        if (!error) error = listed.failure();
        continue;
      }
      files = node_files_.emplace(node, std::move(listed).value()).first;
    }
    auto memory = ReadNumaNodeMemory(files->second, &node_kept_);
    if (!memory) {
      if (!error) error = memory.failure();
      // A pool or node that vanished, or a broken file: list it afresh.
      node_files_.erase(files);
      continue;
    }
    nodes.push_back(std::move(memory).value());
  }
  return nodes;
}

std::shared_ptr<const GuestInventory> TopologyCollector::FreshGuests() const {
  if (!options_.guests_enabled || !guests_) return nullptr;
  std::shared_ptr<const GuestInventory> inv = guests_->Current();
  // Before libvirt's first refresh the holder has an empty "none" inventory:
  // no guests known is not "no guests".
  if (!inv || inv->source == "none") return nullptr;
  if (Clock::now() - inv->taken > options_.guests_max_age) return nullptr;
  return inv;
}

void TopologyCollector::Evaluate(
    const ScrapeContext& ctx, const std::shared_ptr<const CpuLayout>& layout,
    const std::shared_ptr<const GuestInventory>& guests) {
  // The role check needs only the layout; the vCPU and intrusion checks use
  // their inputs while those are fresh (each source's stale policy), so a
  // libvirt outage drops only the subjects built on libvirt's data.
  const CpuRoles& roles = ctx.isolation.roles;
  SmtInputs in{
      layout,
      guests,
      options_.census_enabled,
      options_.census_enabled ? IntrudedCpus(ctx.violations) : CpuSet(),
      roles.HostCpus(),
      roles.DedicatedCpus(),
      roles.SharedCpus(),
      roles.GuestCpus()};
  if (!smt_inputs_ || !(*smt_inputs_ == in)) {
    smt_result_ = DetectSmtSiblingShared(*layout, roles, guests.get(),
                                         in.census ? &in.intruded : nullptr);
    smt_inputs_ = std::move(in);
  }
  ctx.violations.Report(ViolationKind::kSmtSiblingShared, smt_result_);
  // Without a fresh inventory the kind is not evaluated: the registry keeps
  // its subjects for its max age, then drops them.
  if (guests == nullptr) return;
  if (numa_layout_ != layout || numa_guests_ != guests) {
    numa_result_ = DetectNumaMisplacement(*layout, *guests);
    numa_layout_ = layout;
    numa_guests_ = guests;
  }
  ctx.violations.Report(ViolationKind::kNumaMisplacement, numa_result_);
}

Expected<void> TopologyCollector::Collect(
    const ScrapeContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  HOSTISO_ASSIGN_OR_RETURN(std::shared_ptr<const CpuLayout> layout,
                           CurrentLayout(ctx.isolation.topology.online));
  ctx.AppendRendered(InfoFamily(layout), out);
  std::optional<Error> error;
  const std::vector<NumaNodeMemory> nodes = ReadNodes(*layout, error);
  // Files of nodes no longer read (a new layout, a failed node) are closed.
  node_kept_.Sweep();
  AppendNodeMemory(nodes, out);
  const std::shared_ptr<const GuestInventory> guests = FreshGuests();
  if (ctx.isolation.nova) {
    const auto reserved = ReservedHugePagesByNode(*ctx.isolation.nova);
    std::optional<std::map<int, double>> host_used;
    // The headroom needs every node's pools and the guests' placement.
    if (!error && guests)
      host_used = detail::HostHugePagesByNode(nodes, *guests, *layout);
    if (!reserved.empty()) AppendReservation(reserved, host_used, out);
  }
  Evaluate(ctx, layout, guests);
  if (error) return *error;
  return Ok();
}

}  // namespace hostiso
