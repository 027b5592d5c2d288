#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"
#include "metrics/ini.h"

namespace hostiso {

// One [DEFAULT] reserved_huge_pages entry: "node:0,size:2048,count:64".
struct ReservedHugePages {
  int node = 0;
  std::uint64_t size_kib = 0;
  std::uint64_t count = 0;
};

// The nova.conf keys this exporter uses, with Nova's defaults applied where a
// key is absent (nova/conf/compute.py, nova/conf/libvirt.py,
// nova/conf/paths.py).
struct NovaConfig {
  std::optional<CpuSet> cpu_dedicated_set;  // [compute]
  std::optional<CpuSet> cpu_shared_set;     // [compute]
  std::optional<CpuSet> vcpu_pin_set;       // [DEFAULT], legacy
  std::int64_t reserved_host_memory_mb = 512;
  std::int64_t reserved_host_disk_mb = 0;
  std::int64_t reserved_host_cpus = 0;
  std::vector<ReservedHugePages> reserved_huge_pages;
  // Effective ratios: cpu_allocation_ratio if set, else initial_*.
  double cpu_allocation_ratio = 4.0;
  double ram_allocation_ratio = 1.0;
  double disk_allocation_ratio = 1.0;
  std::string state_path = "/var/lib/nova";
  std::string instances_path = "/var/lib/nova/instances";
  std::string images_type = "default";  // [libvirt]
  std::string images_volume_group;      // [libvirt]
  std::string snapshots_directory = "/var/lib/nova/instances/snapshots";
};

// Builds the config from a parsed INI. Errors carry "source:line: ..." and say
// what was expected (an integer, a ratio, a CPU list). nova.conf holds
// passwords: an error quotes a value only for a key this exporter reads (CPU
// sets, ratios, reserved_*, paths, images_*), never for any other key.
Expected<NovaConfig> NovaConfigFromIni(const IniFile& ini,
                                       std::string_view source);

// ParseIni + NovaConfigFromIni.
Expected<NovaConfig> ParseNovaConfig(std::string_view text,
                                     std::string_view source);

namespace detail {
// oslo.config interpolation: "$name" / "${name}" refer to other options of the
// same section or [DEFAULT]; "$$" is a literal '$'. Unknown names are errors.
// `value` is the value of [section] key at `line` (errors name them). Bounded:
// at most kMaxInterpolationDepth nested references (Python's ConfigParser
// allows 10), kMaxInterpolationExpansions references in all and
// kMaxInterpolatedBytes of output per value, so a small file of nested
// references cannot hang the exporter or exhaust its memory.
inline constexpr int kMaxInterpolationDepth = 10;
inline constexpr int kMaxInterpolationExpansions = 1000;
inline constexpr std::size_t kMaxInterpolatedBytes = std::size_t{64} * 1024;
Expected<std::string> Interpolate(std::string_view value, const IniFile& ini,
                                  std::string_view section,
                                  std::string_view key, std::string_view source,
                                  int line);
}  // namespace detail

}  // namespace hostiso
