#include "metrics/cpu_topology.h"

#include "metrics/file_reader.h"

namespace hostiso {
namespace {

Expected<CpuSet> ReadList(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Expected<CpuSet>::Error(text.error());
  auto set = ParseCpuList(*text, CpuListSyntax::kKernel);
  if (!set) return Expected<CpuSet>::Error(path + ": " + set.error());
  return set;
}

}  // namespace

Expected<CpuTopology> ReadCpuTopology(const std::string& sysfs_root) {
  using Result = Expected<CpuTopology>;
  const std::string dir = JoinPath(sysfs_root, "devices/system/cpu/");
  CpuTopology t;
  auto present = ReadList(dir + "present");
  if (!present) return Result::Error(present.error());
  auto online = ReadList(dir + "online");
  if (!online) return Result::Error(online.error());
  t.present = *present;
  t.online = online->Intersect(t.present);
  if (auto isolated = ReadList(dir + "isolated")) {
    t.isolated = *isolated;
    t.has_isolated_file = true;
  }
  if (auto nohz = ReadList(dir + "nohz_full")) t.nohz_full = *nohz;
  return t;
}

}  // namespace hostiso
