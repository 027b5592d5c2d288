#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"

namespace hostiso {

// The namespace Nova writes its instance metadata in
// (nova/virt/libvirt/config.py LibvirtConfigGuestMetaNovaInstance).
inline constexpr std::string_view kNovaMetadataNamespace =
    "http://openstack.org/xmlns/libvirt/nova/1.1";

// <nova:instance> metadata. Every field is empty when absent.
struct NovaMetadata {
  bool present = false;
  std::string instance_name;  // <nova:name>: the server's display name
  std::string flavor;         // <nova:flavor name=...>
  std::string project_id;     // <nova:owner><nova:project uuid=...>
  std::string project_name;   // <nova:owner><nova:project>text
};

// What the exporter needs from a domain's XML (virDomainGetXMLDesc).
struct DomainXml {
  std::string name;
  std::string uuid;
  std::uint64_t memory_bytes = 0;  // <currentMemory>, else <memory>
  int vcpus = 0;                   // <vcpu current=...> or its text
  bool hugepages_backed = false;   // <memoryBacking><hugepages/>
  int iothreads = 0;               // <iothreads>
  NovaMetadata nova;
  std::map<int, CpuSet> vcpupin;      // <cputune><vcpupin vcpu= cpuset=>
  std::optional<CpuSet> emulatorpin;  // <cputune><emulatorpin cpuset=>
  std::map<int, CpuSet>
      iothreadpin;  // <cputune><iothreadpin iothread= cpuset=>
  // <numatune><memory mode=... nodeset=.../>: the NUMA nodes the guest's
  // memory is placed on (any mode: strict, restrictive, preferred,
  // interleave); nullopt without a nodeset (no numatune, or
  // placement='auto').
  std::optional<CpuSet> numatune_nodes;
  // <cpu><numa><cell .../>: the guest NUMA cells its topology declares (0
  // when it declares none).
  int numa_cells = 0;
};

// Parses a libvirt domain XML document. Fails on malformed XML or a root that
// is not <domain>; unknown or malformed optional parts are left empty.
Expected<DomainXml> ParseDomainXml(std::string_view xml);

// Parses the <nova:instance> element alone, as virDomainGetMetadata(
// VIR_DOMAIN_METADATA_ELEMENT, kNovaMetadataNamespace) returns it.
Expected<NovaMetadata> ParseNovaMetadata(std::string_view xml);

// Nova does not write hw:cpu_policy into its metadata. Nova pins every vCPU of
// a "dedicated" instance to exactly one host CPU (<vcpupin cpuset='N'/>) and
// gives "shared" ones a cpuset range, so the policy is derived from the pins:
// "dedicated" when each of the domain's vCPUs has a vcpupin to a single CPU,
// "shared" otherwise; "" when the vCPU count is unknown.
std::string DeriveCpuPolicy(const DomainXml& dom);

// The live state file libvirtd keeps for a running QEMU domain
// (/run/libvirt/qemu/NAME.xml, root only): <domstatus pid=...> and
// <vcpus><vcpu id='N' pid='TID'/>.
struct DomStatus {
  pid_t pid = 0;
  std::map<int, pid_t> vcpu_tids;
};
Expected<DomStatus> ParseDomStatus(std::string_view xml);

namespace detail {
// Converts a libvirt scaled integer (<memory unit='KiB'>) to bytes; libvirt's
// default unit for memory elements is KiB. Unknown units are errors.
Expected<std::uint64_t> ScaledToBytes(std::string_view value,
                                      std::string_view unit);
}  // namespace detail

}  // namespace hostiso
