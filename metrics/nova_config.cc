#include "metrics/nova_config.h"

#include <cctype>
#include <cmath>

#include "metrics/text.h"

namespace hostiso {
namespace {

std::string Where(std::string_view source, int line) {
  return std::string(source) + ":" + std::to_string(line) + ": ";
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

Expected<std::string> Lookup(const IniFile& ini, std::string_view section,
                             std::string_view name, std::string_view source,
                             int line, int depth);

Expected<std::string> InterpolateDepth(std::string_view value,
                                       const IniFile& ini,
                                       std::string_view section,
                                       std::string_view source, int line,
                                       int depth) {
  using Result = Expected<std::string>;
  if (depth > 10) {
    return Result::Error(Where(source, line) + "interpolation loop in '" +
                         std::string(value) + "'");
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
      if (close == std::string_view::npos) {
        return Result::Error(Where(source, line) + "expected '}' in '" +
                             std::string(value) + "'");
      }
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
    if (name.empty()) {
      return Result::Error(Where(source, line) +
                           "expected an option name after '$' in '" +
                           std::string(value) + "'");
    }
    auto sub = Lookup(ini, section, name, source, line, depth + 1);
    if (!sub) return sub;
    out += *sub;
  }
  return out;
}

Expected<std::string> Lookup(const IniFile& ini, std::string_view section,
                             std::string_view name, std::string_view source,
                             int line, int depth) {
  for (std::string_view s : {section, std::string_view("DEFAULT")}) {
    if (auto v = ini.Last(s, name))
      return InterpolateDepth(v->value, ini, s, source, v->line, depth);
  }
  if (auto d = DefaultFor(section, name))
    return InterpolateDepth(*d, ini, section, source, line, depth);
  return Expected<std::string>::Error(Where(source, line) +
                                      "unknown option '$" + std::string(name) +
                                      "' in interpolation");
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
    return Expected<std::int64_t>::Error(
        Where(source, v->line) + "expected a non-negative integer for " +
        std::string(key) + ", got '" + v->value + "'");
  }
  return *parsed;
}

Expected<std::optional<double>> GetRatio(const IniFile& ini,
                                         std::string_view key,
                                         std::string_view source) {
  using Result = Expected<std::optional<double>>;
  auto v = ini.Last("DEFAULT", key);
  if (IsUnset(v) || ToLower(TrimSpace(v->value)) == "none")
    return std::optional<double>{};
  auto parsed = ParseDouble(TrimSpace(v->value));
  if (!parsed || !std::isfinite(*parsed) || *parsed <= 0) {
    return Result::Error(Where(source, v->line) +
                         "expected a positive number for " + std::string(key) +
                         ", got '" + v->value + "'");
  }
  return std::optional<double>(*parsed);
}

Expected<std::optional<CpuSet>> GetCpuSet(const IniFile& ini,
                                          std::string_view section,
                                          std::string_view key,
                                          std::string_view source) {
  using Result = Expected<std::optional<CpuSet>>;
  auto v = ini.Last(section, key);
  if (IsUnset(v)) return std::optional<CpuSet>{};
  auto parsed = ParseCpuList(v->value, CpuListSyntax::kNova);
  if (!parsed) {
    return Result::Error(Where(source, v->line) + "[" + std::string(section) +
                         "] " + std::string(key) + ": " + parsed.error());
  }
  return std::optional<CpuSet>(*parsed);
}

Expected<ReservedHugePages> ParseHugePagesEntry(const IniValue& v,
                                                std::string_view source) {
  using Result = Expected<ReservedHugePages>;
  ReservedHugePages out;
  bool has_node = false, has_size = false, has_count = false;
  for (std::string_view part : Split(v.value, ',')) {
    auto colon = part.find(':');
    auto fail = [&] {
      return Result::Error(Where(source, v.line) +
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
      out.size_kib = *n * mult;
      has_size = true;
    } else if (key == "node" || key == "count") {
      auto n = ParseUint(val);
      if (!n) return fail();
      if (key == "node") {
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
  if (!has_node || !has_size || !has_count) {
    return Result::Error(
        Where(source, v.line) +
        "reserved_huge_pages needs node, size and count, got '" + v.value +
        "'");
  }
  return out;
}

}  // namespace

namespace detail {
Expected<std::string> Interpolate(std::string_view value, const IniFile& ini,
                                  std::string_view section,
                                  std::string_view source, int line) {
  return InterpolateDepth(value, ini, section, source, line, 0);
}
}  // namespace detail

Expected<NovaConfig> NovaConfigFromIni(const IniFile& ini,
                                       std::string_view source) {
  using Result = Expected<NovaConfig>;
  NovaConfig cfg;
#define HOSTISO_TRY(var, expr) \
  auto var = (expr);           \
  if (!var) return Result::Error(var.error());

  HOSTISO_TRY(dedicated,
              GetCpuSet(ini, "compute", "cpu_dedicated_set", source));
  HOSTISO_TRY(shared, GetCpuSet(ini, "compute", "cpu_shared_set", source));
  HOSTISO_TRY(pin, GetCpuSet(ini, "DEFAULT", "vcpu_pin_set", source));
  cfg.cpu_dedicated_set = *dedicated;
  cfg.cpu_shared_set = *shared;
  cfg.vcpu_pin_set = *pin;
  if (cfg.cpu_dedicated_set && cfg.cpu_shared_set &&
      cfg.cpu_dedicated_set->Intersects(*cfg.cpu_shared_set)) {
    return Result::Error(
        std::string(source) +
        ": [compute] cpu_dedicated_set and cpu_shared_set overlap on CPUs " +
        cfg.cpu_dedicated_set->Intersect(*cfg.cpu_shared_set).ToString() +
        " (Nova refuses to start with this)");
  }
  if (cfg.cpu_dedicated_set && cfg.vcpu_pin_set) {
    return Result::Error(
        std::string(source) +
        ": [DEFAULT] vcpu_pin_set and [compute] cpu_dedicated_set are both "
        "set (Nova refuses to start with this)");
  }

  HOSTISO_TRY(mem,
              GetInt(ini, "DEFAULT", "reserved_host_memory_mb", 512, source));
  HOSTISO_TRY(disk, GetInt(ini, "DEFAULT", "reserved_host_disk_mb", 0, source));
  HOSTISO_TRY(cpus, GetInt(ini, "DEFAULT", "reserved_host_cpus", 0, source));
  cfg.reserved_host_memory_mb = *mem;
  cfg.reserved_host_disk_mb = *disk;
  cfg.reserved_host_cpus = *cpus;

  if (const auto* all = ini.All("DEFAULT", "reserved_huge_pages")) {
    for (const IniValue& v : *all) {
      // A value may hold several entries on continuation lines.
      for (std::string_view entry : Split(v.value, '\n')) {
        if (TrimSpace(entry).empty()) continue;
        HOSTISO_TRY(
            hp, ParseHugePagesEntry(
                    IniValue{std::string(TrimSpace(entry)), v.line}, source));
        cfg.reserved_huge_pages.push_back(*hp);
      }
    }
  }

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
    HOSTISO_TRY(ratio, GetRatio(ini, r.key, source));
    HOSTISO_TRY(initial, GetRatio(ini, r.initial_key, source));
    *r.out = ratio->value_or(initial->value_or(r.nova_default));
  }

  HOSTISO_TRY(state,
              detail::Interpolate("$state_path", ini, "DEFAULT", source, 0));
  HOSTISO_TRY(
      inst, detail::Interpolate("$instances_path", ini, "DEFAULT", source, 0));
  HOSTISO_TRY(snap, detail::Interpolate("$snapshots_directory", ini, "libvirt",
                                        source, 0));
  cfg.state_path = *state;
  cfg.instances_path = *inst;
  cfg.snapshots_directory = *snap;
  if (auto v = ini.Last("libvirt", "images_type"); !IsUnset(v))
    cfg.images_type = ToLower(TrimSpace(v->value));
  if (auto v = ini.Last("libvirt", "images_volume_group"); !IsUnset(v))
    cfg.images_volume_group = std::string(TrimSpace(v->value));
#undef HOSTISO_TRY
  return cfg;
}

Expected<NovaConfig> ParseNovaConfig(std::string_view text,
                                     std::string_view source) {
  auto ini = ParseIni(text, source);
  if (!ini) return Expected<NovaConfig>::Error(ini.error());
  return NovaConfigFromIni(*ini, source);
}

}  // namespace hostiso
