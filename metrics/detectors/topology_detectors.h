#pragma once

#include <optional>
#include <string>
#include <vector>

#include "metrics/cpu_roles.h"
#include "metrics/guest_inventory.h"
#include "metrics/sysfs/cpu_layout.h"
#include "metrics/violations.h"

namespace hostiso {

// Detectors over the CPU layout (metric contract, kinds smt_sibling_shared and
// numa_misplacement). Pure: the topology collector gathers the inputs.

// smt_sibling_shared: a dedicated-role CPU D whose SMT sibling S
// - is host-role:   "cpu D (sibling of host cpu S)"
// - is shared-role: "cpu D (sibling of shared cpu S)"
// - is dedicated and a vCPU of a domain that has no vCPU on D may run on S,
//   while some domain's vCPU may run on D: "cpu D (sibling of DOMAIN vcpu N)"
//   (an idle dedicated CPU has no guest to disturb; `guests` null: not
//   checked)
// - is dedicated and had host intrusion in the last census (`intruded`, the
//   guest-role CPUs host threads ran on; null: not checked):
//   "cpu D (sibling of cpu S with host intrusion)".
// cpus = {D}. Nothing without a configured guest set.
std::vector<Violation> DetectSmtSiblingShared(const CpuLayout& layout,
                                              const CpuRoles& roles,
                                              const GuestInventory* guests,
                                              const CpuSet* intruded);

// The NUMA nodes a guest's memory may be on: <numatune> nodeset ∩ the QEMU
// process's Mems_allowed_list, each when known. nullopt when neither
// restricts it (no numatune, and Mems_allowed covers every node of the
// layout): its memory may be anywhere.
std::optional<CpuSet> GuestMemoryNodes(const GuestDomain& domain,
                                       const CpuLayout& layout);

// numa_misplacement, per domain (its vCPUs' affinity as libvirt applied it):
// - memory nodes known (GuestMemoryNodes) and some vCPU may run on a CPU of
//   another node: "DOMAIN (vcpus on node 1, memory on node 0)", cpus = those
//   CPUs;
// - else, for a NUMA-placed guest (numatune, a <cpu><numa> cell, or every
//   vCPU pinned to one CPU) that declares at most one cell, vCPUs on several
//   nodes: "DOMAIN (vcpus on nodes 0-1, 1 numa cell)" (or "no numa cell"),
//   cpus = its vCPUs' CPUs outside the node holding most of them.
// Floating guests without numatune or cells are never flagged: Nova places
// their memory anywhere.
std::vector<Violation> DetectNumaMisplacement(const CpuLayout& layout,
                                              const GuestInventory& guests);

namespace detail {
// "node 1" / "nodes 0-1" / "no node".
std::string NodeListWords(const CpuSet& nodes);
}  // namespace detail

}  // namespace hostiso
