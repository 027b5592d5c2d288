#include "metrics/procfs/meminfo.h"

#include "metrics/text.h"

namespace hostiso {

Expected<Meminfo> ParseMeminfo(std::string_view text) {
  Meminfo m;
  bool have_total = false;
  for (std::string_view line : Split(text, '\n')) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = TrimSpace(line.substr(0, colon));
    std::vector<std::string_view> fields = SplitFields(line.substr(colon + 1));
    if (fields.empty()) continue;
    std::optional<std::uint64_t> v = ParseUint(fields[0]);
    if (!v) {
      return Error("meminfo: " + std::string(key) +
                   ": expected a number, got '" + std::string(fields[0]) + "'");
    }
    // "kB" in /proc/meminfo means KiB.
    const bool kib = fields.size() > 1 && fields[1] == "kB";
    if (kib && *v > (std::uint64_t{1} << 53)) {
      return Error("meminfo: " + std::string(key) + ": " +
                   std::string(fields[0]) + " kB is beyond any real memory");
    }
    const std::uint64_t bytes = kib ? *v * 1024 : *v;
    if (key == "MemTotal") {
      m.mem_total = bytes;
      have_total = true;
    } else if (key == "MemAvailable") {
      m.mem_available = bytes;
    } else if (key == "HugePages_Total") {
      m.hugepages_total = *v;
    } else if (key == "HugePages_Free") {
      m.hugepages_free = *v;
    } else if (key == "HugePages_Rsvd") {
      m.hugepages_rsvd = *v;
    } else if (key == "Hugepagesize") {
      m.hugepagesize_bytes = bytes;
    } else if (key == "Hugetlb") {
      m.hugetlb_bytes = bytes;
    }
  }
  if (!have_total) return Error("meminfo: no MemTotal line");
  if (m.mem_total == 0) return Error("meminfo: MemTotal is 0");
  if (m.mem_available && *m.mem_available > m.mem_total) {
    return Error("meminfo: MemAvailable (" + std::to_string(*m.mem_available) +
                 " bytes) above MemTotal (" + std::to_string(m.mem_total) +
                 " bytes)");
  }
  return m;
}

}  // namespace hostiso
