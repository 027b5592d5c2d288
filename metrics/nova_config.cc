#include "metrics/nova_config.h"

#include <cctype>
#include <cmath>
#include <limits>

#include "metrics/text.h"

namespace hostiso {
namespace {

std::string Where(std::string_view source, int line) {
  if (line <= 0) return std::string(source) + ": ";
  return std::string(source) + ":" + std::to_string(line) + ": ";
}

// nova.conf also holds database and message-queue credentials
// ([database] connection, [DEFAULT] transport_url, passwords of every
// service). Errors quote a value only for the keys this exporter reads;
// for any other key they name file, line and key alone.
bool IsQuotableKey(std::string_view key) {
  static constexpr std::string_view kReadKeys[] = {
      "cpu_dedicated_set",
      "cpu_shared_set",
      "vcpu_pin_set",
      "reserved_host_memory_mb",
      "reserved_host_disk_mb",
      "reserved_host_cpus",
      "reserved_huge_pages",
      "cpu_allocation_ratio",
      "ram_allocation_ratio",
      "disk_allocation_ratio",
      "initial_cpu_allocation_ratio",
      "initial_ram_allocation_ratio",
      "initial_disk_allocation_ratio",
      "state_path",
      "instances_path",
      "snapshots_directory",
      "images_type",
      "images_volume_group",
  };
  for (std::string_view k : kReadKeys) {
    if (k == key) return true;
  }
  return false;
}

// Built-in defaults oslo.config would interpolate when a key is absent.
std::optional<std::string> DefaultFor(std::string_view section,
                                      std::string_view key) {
  if (key == "state_path") return "/var/lib/nova";
  if (key == "instances_path") return "$state_path/instances";
  if (section == "libvirt" && key == "snapshots_directory")
    return "$instances_path/snapshots";
  return std::nullopt;
}

// Where a value being expanded came from, for error messages. Line 0: a
// built-in default.
struct ValueOrigin {
  std::string_view section;
  std::string_view key;
  int line = 0;
};

// One interpolation with its budget. References can nest and repeat, so a
// few hundred bytes of "a = $b$b$b..." lines expand exponentially: depth,
// the number of references expanded and the output size are all bounded.
class Interpolation {
 public:
  Interpolation(const IniFile& ini, std::string_view source)
      : ini_(ini), source_(source) {}

  Expected<std::string> Expand(std::string_view value, ValueOrigin origin,
                               int depth);
  Expected<std::string> Lookup(std::string_view name, ValueOrigin from,
                               int depth);

 private:
  Expected<std::string> Fail(ValueOrigin origin, const std::string& what,
                             std::string_view value) const {
    std::string message = Where(source_, origin.line) + "[" +
                          std::string(origin.section) + "] " +
                          std::string(origin.key) + ": " + what;
    if (IsQuotableKey(origin.key) && !value.empty())
      message += " in '" + std::string(value) + "'";
    return Error(std::move(message));
  }

  const IniFile& ini_;
  std::string_view source_;
  int expansions_ = 0;
};

Expected<std::string> Interpolation::Expand(std::string_view value,
                                            ValueOrigin origin, int depth) {
  if (depth > detail::kMaxInterpolationDepth) {
    return Fail(origin,
                "interpolation nested deeper than " +
                    std::to_string(detail::kMaxInterpolationDepth) +
                    " levels (a reference loop?)",
                value);
  }
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$') {
      out += value[i];
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string_view name;
    if (i + 1 < value.size() && value[i + 1] == '{') {
      auto close = value.find('}', i + 2);
      if (close == std::string_view::npos)
        return Fail(origin, "expected '}' after '${'", value);
      name = value.substr(i + 2, close - i - 2);
      i = close;
    } else {
      std::size_t j = i + 1;
      while (j < value.size() &&
             (std::isalnum(static_cast<unsigned char>(value[j])) ||
              value[j] == '_'))
        ++j;
      name = value.substr(i + 1, j - i - 1);
      i = j - 1;
    }
    if (name.empty())
      return Fail(origin, "expected an option name after '$'", value);
    if (++expansions_ > detail::kMaxInterpolationExpansions) {
      return Fail(origin,
                  "interpolation expands more than " +
                      std::to_string(detail::kMaxInterpolationExpansions) +
                      " references",
                  value);
    }
    auto sub = Lookup(name, origin, depth + 1);
    if (!sub) return sub;
    if (out.size() + sub->size() > detail::kMaxInterpolatedBytes) {
      return Fail(origin,
                  "interpolated value longer than " +
                      std::to_string(detail::kMaxInterpolatedBytes) + " bytes",
                  value);
    }
    out += *sub;
  }
  if (out.size() > detail::kMaxInterpolatedBytes) {
    return Fail(origin,
                "interpolated value longer than " +
                    std::to_string(detail::kMaxInterpolatedBytes) + " bytes",
                value);
  }
  return out;
}

Expected<std::string> Interpolation::Lookup(std::string_view name,
                                            ValueOrigin from, int depth) {
  for (std::string_view s : {from.section, std::string_view("DEFAULT")}) {
    const auto* all = ini_.All(s, name);
    if (all != nullptr) {
      const IniValue& v = all->back();
      return Expand(v.value, ValueOrigin{s, name, v.line}, depth);
    }
  }
  if (auto d = DefaultFor(from.section, name))
    return Expand(*d, ValueOrigin{from.section, name, 0}, depth);
  std::string what = "unknown option";
  if (IsQuotableKey(from.key)) what += " '$" + std::string(name) + "'";
  return Fail(from, what + " in interpolation", {});
}

// The interpolated value of `key` (or its Nova default).
Expected<std::string> InterpolatedOption(const IniFile& ini,
                                         std::string_view section,
                                         std::string_view key,
                                         std::string_view source) {
  return Interpolation(ini, source)
      .Lookup(key, ValueOrigin{section, key, 0}, 0);
}

// oslo.config treats an empty value of an optional option as unset.
bool IsUnset(const std::optional<IniValue>& v) {
  return !v.has_value() || TrimSpace(v->value).empty();
}

Expected<std::int64_t> GetInt(const IniFile& ini, std::string_view section,
                              std::string_view key, std::int64_t fallback,
                              std::string_view source) {
  auto v = ini.Last(section, key);
  if (IsUnset(v)) return fallback;
  auto parsed = ParseInt(TrimSpace(v->value));
  if (!parsed || *parsed < 0) {
    return Error(Where(source, v->line) +
                 "expected a non-negative integer for " + std::string(key) +
                 ", got '" + v->value + "'");
  }
  return *parsed;
}

Expected<std::optional<double>> GetRatio(const IniFile& ini,
                                         std::string_view key,
                                         std::string_view source) {
  auto v = ini.Last("DEFAULT", key);
  if (IsUnset(v) || ToLower(TrimSpace(v->value)) == "none")
    return std::optional<double>{};
  auto parsed = ParseDouble(TrimSpace(v->value));
  if (!parsed || !std::isfinite(*parsed) || *parsed <= 0) {
    return Error(Where(source, v->line) + "expected a positive number for " +
                 std::string(key) + ", got '" + v->value + "'");
  }
  return std::optional<double>(*parsed);
}

Expected<std::optional<CpuSet>> GetCpuSet(const IniFile& ini,
                                          std::string_view section,
                                          std::string_view key,
                                          std::string_view source) {
  auto v = ini.Last(section, key);
  if (IsUnset(v)) return std::optional<CpuSet>{};
  auto parsed = ParseCpuList(v->value, CpuListSyntax::kNova);
  if (!parsed) {
    return parsed.failure().WithContext(Where(source, v->line) + "[" +
                                        std::string(section) + "] " +
                                        std::string(key));
  }
  return std::optional<CpuSet>(*parsed);
}

// MAX_NUMNODES: the kernel's NODES_SHIFT is at most 10.
constexpr std::uint64_t kMaxNumaNodes = 1024;
// Sizes in KiB whose byte count fits in 64 bits.
constexpr std::uint64_t kMaxHugePageKib =
    std::numeric_limits<std::uint64_t>::max() / 1024;

Expected<ReservedHugePages> ParseHugePagesEntry(const IniValue& v,
                                                std::string_view source) {
  ReservedHugePages out;
  bool has_node = false, has_size = false, has_count = false;
  for (std::string_view part : Split(v.value, ',')) {
    auto colon = part.find(':');
    auto fail = [&] {
      return Error(Where(source, v.line) +
                   "expected reserved_huge_pages like "
                   "'node:0,size:2048,count:64', got '" +
                   v.value + "'");
    };
    if (colon == std::string_view::npos) return fail();
    std::string key = ToLower(TrimSpace(part.substr(0, colon)));
    std::string val = ToLower(TrimSpace(part.substr(colon + 1)));
    if (key == "size") {
      // Nova accepts "2048", "2048KB", "1GB" (nova/conf/compute.py).
      std::uint64_t mult = 1;
      for (auto [suffix, m] : {std::pair{"kb", 1ULL},
                               {"k", 1ULL},
                               {"mb", 1024ULL},
                               {"m", 1024ULL},
                               {"gb", 1024ULL * 1024},
                               {"g", 1024ULL * 1024}}) {
        std::string_view sv(val);
        std::string_view suf(suffix);
        if (sv.size() > suf.size() &&
            sv.substr(sv.size() - suf.size()) == suf) {
          val.resize(val.size() - suf.size());
          mult = m;
          break;
        }
      }
      auto n = ParseUint(val);
      if (!n) return fail();
      if (*n > kMaxHugePageKib / mult) {
        return Error(Where(source, v.line) +
                     "reserved_huge_pages size out of range in '" + v.value +
                     "'");
      }
      out.size_kib = *n * mult;
      has_size = true;
    } else if (key == "node" || key == "count") {
      auto n = ParseUint(val);
      if (!n) return fail();
      if (key == "node") {
        if (*n >= kMaxNumaNodes) {
          return Error(Where(source, v.line) +
                       "reserved_huge_pages node out of range in '" + v.value +
                       "'");
        }
        out.node = static_cast<int>(*n);
        has_node = true;
      } else {
        out.count = *n;
        has_count = true;
      }
    } else {
      return fail();
    }
  }
  // The memory collector computes count * size in bytes: it must fit in 64
  // bits (no host has 16 EiB of huge pages to reserve).
  if (has_size && has_count && out.size_kib != 0 &&
      out.count >
          std::numeric_limits<std::uint64_t>::max() / 1024 / out.size_kib) {
    return Error(Where(source, v.line) +
                 "reserved_huge_pages count * size overflows in '" + v.value +
                 "'");
  }
  if (!has_node || !has_size || !has_count) {
    return Error(Where(source, v.line) +
                 "reserved_huge_pages needs node, size and count, got '" +
                 v.value + "'");
  }
  return out;
}

}  // namespace

namespace detail {
Expected<std::string> Interpolate(std::string_view value, const IniFile& ini,
                                  std::string_view section,
                                  std::string_view key, std::string_view source,
                                  int line) {
  return Interpolation(ini, source)
      .Expand(value, ValueOrigin{section, key, line}, 0);
}
}  // namespace detail

namespace {

// [compute] cpu_dedicated_set / cpu_shared_set, [DEFAULT] vcpu_pin_set, and
// the combinations Nova refuses to start with.
Expected<void> ReadCpuSets(const IniFile& ini, std::string_view source,
                           NovaConfig& cfg) {
  HOSTISO_ASSIGN_OR_RETURN(
      cfg.cpu_dedicated_set,
      GetCpuSet(ini, "compute", "cpu_dedicated_set", source));
  HOSTISO_ASSIGN_OR_RETURN(cfg.cpu_shared_set,
                           GetCpuSet(ini, "compute", "cpu_shared_set", source));
  HOSTISO_ASSIGN_OR_RETURN(cfg.vcpu_pin_set,
                           GetCpuSet(ini, "DEFAULT", "vcpu_pin_set", source));
  if (cfg.cpu_dedicated_set && cfg.cpu_shared_set &&
      cfg.cpu_dedicated_set->Intersects(*cfg.cpu_shared_set)) {
    return Error(
        std::string(source) +
        ": [compute] cpu_dedicated_set and cpu_shared_set overlap on CPUs " +
        cfg.cpu_dedicated_set->Intersect(*cfg.cpu_shared_set).ToString() +
        " (Nova refuses to start with this)");
  }
  if (cfg.cpu_dedicated_set && cfg.vcpu_pin_set) {
    return Error(
        std::string(source) +
        ": [DEFAULT] vcpu_pin_set and [compute] cpu_dedicated_set are both "
        "set (Nova refuses to start with this)");
  }
  return Ok();
}

// [DEFAULT] reserved_host_memory_mb, reserved_host_disk_mb,
// reserved_host_cpus and every reserved_huge_pages entry.
Expected<void> ReadReservations(const IniFile& ini, std::string_view source,
                                NovaConfig& cfg) {
  HOSTISO_ASSIGN_OR_RETURN(
      cfg.reserved_host_memory_mb,
      GetInt(ini, "DEFAULT", "reserved_host_memory_mb", 512, source));
  HOSTISO_ASSIGN_OR_RETURN(
      cfg.reserved_host_disk_mb,
      GetInt(ini, "DEFAULT", "reserved_host_disk_mb", 0, source));
  HOSTISO_ASSIGN_OR_RETURN(
      cfg.reserved_host_cpus,
      GetInt(ini, "DEFAULT", "reserved_host_cpus", 0, source));
  const auto* all = ini.All("DEFAULT", "reserved_huge_pages");
  if (all == nullptr) return Ok();
  for (const IniValue& v : *all) {
    // A value may hold several entries on continuation lines.
    for (std::string_view entry : Split(v.value, '\n')) {
      if (TrimSpace(entry).empty()) continue;
      HOSTISO_ASSIGN_OR_RETURN(
          ReservedHugePages hp,
          ParseHugePagesEntry(IniValue{std::string(TrimSpace(entry)), v.line},
                              source));
      cfg.reserved_huge_pages.push_back(hp);
    }
  }
  return Ok();
}

// Each *_allocation_ratio: its own value, else initial_*, else Nova's
// default.
Expected<void> ReadAllocationRatios(const IniFile& ini, std::string_view source,
                                    NovaConfig& cfg) {
  struct RatioKeys {
    const char* key;
    const char* initial_key;
    double nova_default;
    double* out;
  };
  for (const RatioKeys& r :
       {RatioKeys{"cpu_allocation_ratio", "initial_cpu_allocation_ratio", 4.0,
                  &cfg.cpu_allocation_ratio},
        RatioKeys{"ram_allocation_ratio", "initial_ram_allocation_ratio", 1.0,
                  &cfg.ram_allocation_ratio},
        RatioKeys{"disk_allocation_ratio", "initial_disk_allocation_ratio", 1.0,
                  &cfg.disk_allocation_ratio}}) {
    HOSTISO_ASSIGN_OR_RETURN(std::optional<double> ratio,
                             GetRatio(ini, r.key, source));
    HOSTISO_ASSIGN_OR_RETURN(std::optional<double> initial,
                             GetRatio(ini, r.initial_key, source));
    *r.out = ratio.value_or(initial.value_or(r.nova_default));
  }
  return Ok();
}

// Where instance disks live: the interpolated paths and [libvirt]
// images_type / images_volume_group.
Expected<void> ReadStorage(const IniFile& ini, std::string_view source,
                           NovaConfig& cfg) {
  HOSTISO_ASSIGN_OR_RETURN(
      cfg.state_path, InterpolatedOption(ini, "DEFAULT", "state_path", source));
  HOSTISO_ASSIGN_OR_RETURN(
      cfg.instances_path,
      InterpolatedOption(ini, "DEFAULT", "instances_path", source));
  HOSTISO_ASSIGN_OR_RETURN(
      cfg.snapshots_directory,
      InterpolatedOption(ini, "libvirt", "snapshots_directory", source));
  if (auto v = ini.Last("libvirt", "images_type"); !IsUnset(v))
    cfg.images_type = ToLower(TrimSpace(v->value));
  if (auto v = ini.Last("libvirt", "images_volume_group"); !IsUnset(v))
    cfg.images_volume_group = std::string(TrimSpace(v->value));
  return Ok();
}

}  // namespace

Expected<NovaConfig> NovaConfigFromIni(const IniFile& ini,
                                       std::string_view source) {
  NovaConfig cfg;
  HOSTISO_RETURN_IF_ERROR(ReadCpuSets(ini, source, cfg));
  HOSTISO_RETURN_IF_ERROR(ReadReservations(ini, source, cfg));
  HOSTISO_RETURN_IF_ERROR(ReadAllocationRatios(ini, source, cfg));
  HOSTISO_RETURN_IF_ERROR(ReadStorage(ini, source, cfg));
  return cfg;
}

Expected<NovaConfig> ParseNovaConfig(std::string_view text,
                                     std::string_view source) {
  HOSTISO_ASSIGN_OR_RETURN(const IniFile ini, ParseIni(text, source));
  return NovaConfigFromIni(ini, source);
}

}  // namespace hostiso
