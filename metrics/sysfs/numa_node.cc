#include "metrics/sysfs/numa_node.h"

#include <charconv>
#include <iterator>
#include <optional>
#include <utility>

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

namespace {

// "line N: what", built only when a line is wrong.
Error LineError(int line_no, std::string_view what) {
  std::string where = "line ";
  where += std::to_string(line_no);
  where += ": ";
  where += what;
  return Error(std::move(where));
}

// The next line of `rest` (without its '\n'), `rest` advanced past it.
std::string_view TakeLine(std::string_view& rest) {
  const std::size_t nl = rest.find('\n');
  const std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  return line;
}

}  // namespace

// Called at every scrape for every node: no allocation unless it fails.
Expected<NodeMeminfo> ParseNodeMeminfo(std::string_view text, int node) {
  char id_buf[16];
  const std::string_view node_id(
      id_buf,
      static_cast<std::size_t>(
          std::to_chars(id_buf, id_buf + sizeof id_buf, node).ptr - id_buf));
  std::optional<std::uint64_t> total, free;
  int line_no = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::string_view line = TakeLine(rest);
    ++line_no;
    if (TrimSpace(line).empty()) continue;
    // "Node", id, "Key:", value, unit; a sixth field makes the line wrong.
    std::string_view fields[6];
    std::size_t count = 0;
    std::string_view cursor = line;
    while (count < std::size(fields)) {
      const std::string_view field = TakeField(cursor);
      if (field.empty()) break;
      fields[count++] = field;
    }
    if (count < 4 || fields[0] != "Node" || !fields[2].ends_with(':')) {
      return LineError(
          line_no, "expected \"Node " + std::string(node_id) + " Key: value\"");
    }
    if (fields[1] != node_id) {
      return LineError(line_no, "names node " + std::string(fields[1]) +
                                    ", expected node " + std::string(node_id));
    }
    const std::string_view key = fields[2].substr(0, fields[2].size() - 1);
    if (key != "MemTotal" && key != "MemFree") continue;
    auto bytes = count == 5 ? KibToBytes(fields[3], fields[4]) : std::nullopt;
    if (!bytes) {
      return LineError(line_no, "expected \"" + std::string(key) + ": N kB\"");
    }
    (key == "MemTotal" ? total : free) = *bytes;
  }
  if (!total) return Error("no MemTotal line");
  if (!free) return Error("no MemFree line");
  if (*free > *total) return Error("MemFree is above MemTotal");
  return NodeMeminfo{*total, *free};
}

Expected<NumaNodeFiles> ListNumaNodeFiles(const std::string& sysfs_root,
                                          int node) {
  const std::string dir = JoinPath(
      sysfs_root, "devices/system/node/node" + std::to_string(node) + "/");
  NumaNodeFiles files;
  files.node = node;
  files.meminfo = dir + "meminfo";
  const std::string pools_dir = dir + "hugepages";
  HOSTISO_ASSIGN_OR_RETURN(std::vector<HugePageDir> pools,
                           ListHugePageDirs(pools_dir));
  for (const HugePageDir& pool : pools) {
    const std::string base = pools_dir + "/" + pool.name + "/";
    files.pools.push_back(
        {pool.page_size_bytes, base + "nr_hugepages", base + "free_hugepages"});
  }
  return files;
}

Expected<NumaNodeMemory> ReadNumaNodeMemory(const NumaNodeFiles& files,
                                            KeptKernfsFiles* kept) {
  NumaNodeMemory out;
  out.node = files.node;
  {
    // sysfs attributes are at most a page; a real node's meminfo is ~1 KiB.
    char buf[8192];
    HOSTISO_ASSIGN_OR_RETURN(
        std::string_view text,
        ReadKernfsFile(kept, files.meminfo, buf, sizeof buf));
    auto meminfo = ParseNodeMeminfo(text, files.node);
    if (!meminfo) return meminfo.failure().WithContext(files.meminfo);
    out.meminfo = *meminfo;
  }
  out.hugepages.reserve(files.pools.size());
  for (const NumaNodeFiles::Pool& pool : files.pools) {
    HugePagePool p;
    p.page_size_bytes = pool.page_size_bytes;
    HOSTISO_ASSIGN_OR_RETURN(p.total,
                             ReadHugePageCounter(pool.nr_hugepages, kept));
    HOSTISO_ASSIGN_OR_RETURN(p.free,
                             ReadHugePageCounter(pool.free_hugepages, kept));
    out.hugepages.push_back(p);
  }
  return out;
}

Expected<NumaNodeMemory> ReadNumaNodeMemory(const std::string& sysfs_root,
                                            int node) {
  HOSTISO_ASSIGN_OR_RETURN(NumaNodeFiles files,
                           ListNumaNodeFiles(sysfs_root, node));
  return ReadNumaNodeMemory(files);
}

}  // namespace hostiso
