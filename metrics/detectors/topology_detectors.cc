#include "metrics/detectors/topology_detectors.h"

#include <map>
#include <set>
#include <string_view>
#include <utility>

namespace hostiso {

namespace detail {

std::string NodeListWords(const CpuSet& nodes) {
  if (nodes.Empty()) return "no node";
  return (nodes.Count() == 1 ? "node " : "nodes ") + nodes.ToString();
}

}  // namespace detail

namespace {

CpuSet NodeSetOf(const CpuLayout& layout, const CpuSet& cpus) {
  CpuSet nodes;
  for (int node : layout.NodesOf(cpus)) {
    if (node >= 0) nodes.Insert(node);
  }
  return nodes;
}

CpuSet LayoutNodes(const CpuLayout& layout) {
  CpuSet nodes;
  for (const auto& [node, cpus] : layout.nodes) nodes.Insert(node);
  return nodes;
}

// Per dedicated CPU, the (domain, vCPU) pairs whose affinity includes it.
using VcpuRef = std::pair<const GuestDomain*, int>;
std::map<int, std::vector<VcpuRef>> VcpusOnDedicated(
    const GuestInventory& guests, const CpuSet& dedicated) {
  std::map<int, std::vector<VcpuRef>> on;
  for (const GuestDomain& d : guests.domains) {
    for (const GuestVcpu& v : d.vcpus) {
      for (int cpu : v.affinity.Intersect(dedicated).Members())
        on[cpu].emplace_back(&d, v.index);
    }
  }
  return on;
}

// The subjects for dedicated CPU `cpu` whose dedicated sibling `sibling`
// runs vCPUs of domains that have none on `cpu`.
void ForeignVcpusOnSibling(int cpu, int sibling,
                           const std::map<int, std::vector<VcpuRef>>& on,
                           std::vector<Violation>& out) {
  auto own = on.find(cpu);
  auto theirs = on.find(sibling);
  if (own == on.end() || theirs == on.end()) return;
  std::set<const GuestDomain*> own_domains;
  for (const VcpuRef& ref : own->second) own_domains.insert(ref.first);
  for (const auto& [domain, index] : theirs->second) {
    if (own_domains.count(domain) != 0) continue;
    out.push_back({"cpu " + std::to_string(cpu) + " (sibling of " +
                       domain->name + " vcpu " + std::to_string(index) + ")",
                   CpuSet::FromList({cpu})});
  }
}

}  // namespace

std::vector<Violation> DetectSmtSiblingShared(const CpuLayout& layout,
                                              const CpuRoles& roles,
                                              const GuestInventory* guests,
                                              const CpuSet* intruded) {
  std::vector<Violation> out;
  if (!roles.IsolationConfigured()) return out;
  const CpuSet& dedicated = roles.DedicatedCpus();
  std::map<int, std::vector<VcpuRef>> on;
  if (guests != nullptr) on = VcpusOnDedicated(*guests, dedicated);
  for (int cpu : dedicated.Members()) {
    // "cpu D (sibling of WHAT S)", with WHAT the sibling's role.
    auto add = [&out, cpu](std::string_view what, int sibling,
                           std::string_view tail = "") {
      std::string subject = "cpu ";
      subject += std::to_string(cpu);
      subject += " (sibling of ";
      subject += what;
      subject += std::to_string(sibling);
      subject += tail;
      subject += ')';
      out.push_back({std::move(subject), CpuSet::FromList({cpu})});
    };
    for (int sibling : layout.SiblingsOf(cpu).Members()) {
      switch (roles.RoleOf(sibling)) {
        case CpuRole::kHost:
          add("host cpu ", sibling);
          continue;
        case CpuRole::kShared:
          add("shared cpu ", sibling);
          continue;
        case CpuRole::kGuest:  // legacy vcpu_pin_set: floating guests too
          add("guest cpu ", sibling);
          continue;
        case CpuRole::kDedicated:
          break;
      }
      ForeignVcpusOnSibling(cpu, sibling, on, out);
      if (intruded != nullptr && intruded->Contains(sibling))
        add("cpu ", sibling, " with host intrusion");
    }
  }
  return out;
}

std::optional<CpuSet> GuestMemoryNodes(const GuestDomain& domain,
                                       const CpuLayout& layout) {
  std::optional<CpuSet> nodes = domain.numatune_nodes;
  if (domain.mems_allowed) {
    const CpuSet all = LayoutNodes(layout);
    // Mems_allowed of every node is the kernel's default: no restriction.
    if (!all.Minus(*domain.mems_allowed).Empty() || nodes)
      nodes =
          nodes ? nodes->Intersect(*domain.mems_allowed) : *domain.mems_allowed;
  }
  return nodes;
}

namespace {

// The vCPU CPUs outside the node that holds most of them (ties: the lowest
// node).
CpuSet OutsideMajorityNode(const CpuLayout& layout, const CpuSet& cpus) {
  std::map<int, CpuSet> by_node;
  for (int cpu : cpus.Members()) {
    if (const CpuPlace* place = layout.Find(cpu))
      by_node[place->numa_node].Insert(cpu);
  }
  int best = -1, best_count = -1;
  for (const auto& [node, set] : by_node) {
    if (set.Count() > best_count) {
      best = node;
      best_count = set.Count();
    }
  }
  CpuSet out;
  for (const auto& [node, set] : by_node)
    if (node != best) out = out.Union(set);
  return out;
}

bool AllPinnedToOneCpu(const GuestDomain& d) {
  if (d.vcpus.empty()) return false;
  for (const GuestVcpu& v : d.vcpus)
    if (v.affinity.Count() != 1) return false;
  return true;
}

}  // namespace

std::vector<Violation> DetectNumaMisplacement(const CpuLayout& layout,
                                              const GuestInventory& guests) {
  std::vector<Violation> out;
  for (const GuestDomain& d : guests.domains) {
    CpuSet vcpu_cpus;
    for (const GuestVcpu& v : d.vcpus) vcpu_cpus = vcpu_cpus.Union(v.affinity);
    if (vcpu_cpus.Empty()) continue;
    if (const std::optional<CpuSet> memory = GuestMemoryNodes(d, layout)) {
      CpuSet remote;
      for (int cpu : vcpu_cpus.Members()) {
        const CpuPlace* place = layout.Find(cpu);
        if (place != nullptr && !memory->Contains(place->numa_node))
          remote.Insert(cpu);
      }
      if (!remote.Empty()) {
        out.push_back({d.name + " (vcpus on " +
                           detail::NodeListWords(NodeSetOf(layout, remote)) +
                           ", memory on " + detail::NodeListWords(*memory) +
                           ")",
                       remote});
        continue;
      }
    }
    const bool placed =
        d.numatune_nodes || d.numa_cells > 0 || AllPinnedToOneCpu(d);
    const CpuSet nodes = NodeSetOf(layout, vcpu_cpus);
    if (!placed || d.numa_cells > 1 || nodes.Count() < 2) continue;
    out.push_back(
        {d.name + " (vcpus on " + detail::NodeListWords(nodes) + ", " +
             (d.numa_cells == 1 ? "1 numa cell" : "no numa cell") + ")",
         OutsideMajorityNode(layout, vcpu_cpus)});
  }
  return out;
}

}  // namespace hostiso
