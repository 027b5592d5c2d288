#include "metrics/sysfs/cpu_layout.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <set>

#include "metrics/procfs/read_file.h"
#include "metrics/text.h"

namespace hostiso {

namespace {

// `places` is sorted by CPU number; const or not.
template <typename Places>
auto FindPlace(Places& places, int cpu) -> decltype(&places.front()) {
  auto it = std::lower_bound(
      places.begin(), places.end(), cpu,
      [](const CpuPlace& place, int value) { return place.cpu < value; });
  return it != places.end() && it->cpu == cpu ? &*it : nullptr;
}

}  // namespace

const CpuPlace* CpuLayout::Find(int cpu) const { return FindPlace(cpus, cpu); }

CpuSet CpuLayout::SiblingsOf(int cpu) const {
  const CpuPlace* place = Find(cpu);
  if (place == nullptr) return {};
  CpuSet siblings = place->smt_siblings;
  siblings.Erase(cpu);
  return siblings;
}

std::vector<int> CpuLayout::NodesOf(const CpuSet& set) const {
  std::set<int> found;
  for (int cpu : set.Members()) {
    if (const CpuPlace* place = Find(cpu)) found.insert(place->numa_node);
  }
  return {found.begin(), found.end()};
}

Expected<int> ParseSysfsId(std::string_view text) {
  auto value = ParseInt(TrimSpace(text));
  constexpr std::int64_t kLimit = std::int64_t{1} << 30;
  if (!value || *value < -kLimit || *value > kLimit)
    return Error("expected an integer id");
  return static_cast<int>(*value);
}

std::optional<int> ParseNodeDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "node";
  if (!name.starts_with(kPrefix) || name.size() == kPrefix.size())
    return std::nullopt;
  auto id = ParseUint(name.substr(kPrefix.size()));
  if (!id || *id >= static_cast<std::uint64_t>(CpuSet::kMaxCpus))
    return std::nullopt;
  return static_cast<int>(*id);
}

namespace {

Expected<CpuSet> ReadCpuList(const std::string& path) {
  return ReadAndParse(path, [](const std::string& text) {
    return ParseCpuList(text, CpuListSyntax::kKernel);
  });
}

Expected<CpuPlace> ReadCpuPlace(const std::string& cpu_dir, int cpu) {
  const std::string topology =
      cpu_dir + "cpu" + std::to_string(cpu) + "/topology/";
  CpuPlace place;
  place.cpu = cpu;
  HOSTISO_ASSIGN_OR_RETURN(
      place.package,
      ReadAndParse(topology + "physical_package_id", ParseSysfsId));
  HOSTISO_ASSIGN_OR_RETURN(place.core,
                           ReadAndParse(topology + "core_id", ParseSysfsId));
  HOSTISO_ASSIGN_OR_RETURN(place.smt_siblings,
                           ReadCpuList(topology + "thread_siblings_list"));
  // A CPU is always its own sibling; a list without it is not this CPU's.
  if (!place.smt_siblings.Contains(cpu))
    return Error(topology + "thread_siblings_list: does not contain cpu " +
                 std::to_string(cpu));
  return place;
}

// The nodes the kernel has online: node/online, or when that file is absent
// (older or trimmed sysfs) every nodeN directory. An absent node directory is
// a kernel without NUMA: an empty map.
Expected<std::vector<int>> ReadNodeIds(const std::string& node_dir) {
  auto online = ReadCpuList(node_dir + "online");
  if (online) return online->Members();
  if (online.failure().code() != ENOENT) return online.failure();
  std::vector<int> ids;
  std::error_code ec;
  std::filesystem::directory_iterator it(node_dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return ids;
    return Error(node_dir + ": " + ec.message());
  }
  for (const auto& entry : it) {
    if (auto id = ParseNodeDirName(entry.path().filename().string()))
      ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

Expected<CpuLayout> ReadCpuLayout(const std::string& sysfs_root,
                                  const CpuSet& online) {
  const std::string cpu_dir = JoinPath(sysfs_root, "devices/system/cpu/");
  const std::string node_dir = JoinPath(sysfs_root, "devices/system/node/");
  CpuLayout layout;
  for (int cpu : online.Members()) {
    HOSTISO_ASSIGN_OR_RETURN(CpuPlace place, ReadCpuPlace(cpu_dir, cpu));
    layout.cpus.push_back(std::move(place));
  }
  HOSTISO_ASSIGN_OR_RETURN(std::vector<int> node_ids, ReadNodeIds(node_dir));
  if (node_ids.empty()) {
    layout.numa_from_sysfs = false;
    for (CpuPlace& place : layout.cpus) place.numa_node = 0;
    layout.nodes[0] = online;
    return layout;
  }
  for (int node : node_ids) {
    HOSTISO_ASSIGN_OR_RETURN(
        CpuSet cpus,
        ReadCpuList(node_dir + "node" + std::to_string(node) + "/cpulist"));
    cpus = cpus.Intersect(online);
    for (int cpu : cpus.Members()) {
      CpuPlace* place = FindPlace(layout.cpus, cpu);
      if (place->numa_node >= 0)
        return Error(node_dir + "node" + std::to_string(node) +
                     "/cpulist: cpu " + std::to_string(cpu) +
                     " is also on node " + std::to_string(place->numa_node));
      place->numa_node = node;
    }
    layout.nodes[node] = std::move(cpus);
  }
  for (const CpuPlace& place : layout.cpus) {
    if (place.numa_node < 0)
      return Error(node_dir + ": cpu " + std::to_string(place.cpu) +
                   " is on no online node");
  }
  return layout;
}

}  // namespace hostiso
