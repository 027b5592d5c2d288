#include "metrics/sysfs/numa_node.h"

#include <optional>

#include "metrics/procfs/read_file.h"
#include "metrics/text.h"

namespace hostiso {

namespace {

// "16326012 kB" -> bytes; the kernel writes KiB and calls them kB.
std::optional<std::uint64_t> KibToBytes(std::string_view value,
                                        std::string_view unit) {
  if (unit != "kB") return std::nullopt;
  auto kib = ParseUint(value);
  if (!kib || *kib > UINT64_MAX / 1024) return std::nullopt;
  return *kib * 1024;
}

}  // namespace

Expected<NodeMeminfo> ParseNodeMeminfo(std::string_view text, int node) {
  const std::string node_id = std::to_string(node);
  std::optional<std::uint64_t> total, free;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    if (TrimSpace(line).empty()) continue;
    const auto fields = SplitFields(line);
    std::string where = "line ";
    where += std::to_string(line_no);
    where += ": ";
    if (fields.size() < 4 || fields[0] != "Node" || !fields[2].ends_with(':')) {
      where += "expected \"Node ";
      where += node_id;
      where += " Key: value\"";
      return Error(where);
    }
    if (fields[1] != node_id) {
      where += "names node ";
      where += fields[1];
      where += ", expected node ";
      where += node_id;
      return Error(where);
    }
    const std::string_view key = fields[2].substr(0, fields[2].size() - 1);
    if (key != "MemTotal" && key != "MemFree") continue;
    auto bytes =
        fields.size() == 5 ? KibToBytes(fields[3], fields[4]) : std::nullopt;
    if (!bytes) {
      where += "expected \"";
      where += key;
      where += ": N kB\"";
      return Error(where);
    }
    (key == "MemTotal" ? total : free) = *bytes;
  }
  if (!total) return Error("no MemTotal line");
  if (!free) return Error("no MemFree line");
  if (*free > *total) return Error("MemFree is above MemTotal");
  return NodeMeminfo{*total, *free};
}

Expected<NumaNodeMemory> ReadNumaNodeMemory(const std::string& sysfs_root,
                                            int node) {
  const std::string dir = JoinPath(
      sysfs_root, "devices/system/node/node" + std::to_string(node) + "/");
  NumaNodeMemory out;
  out.node = node;
  HOSTISO_ASSIGN_OR_RETURN(
      out.meminfo, ReadAndParse(dir + "meminfo", [node](const std::string& t) {
        return ParseNodeMeminfo(t, node);
      }));
  HOSTISO_ASSIGN_OR_RETURN(out.hugepages,
                           ReadHugePagePoolsIn(dir + "hugepages"));
  return out;
}

}  // namespace hostiso
