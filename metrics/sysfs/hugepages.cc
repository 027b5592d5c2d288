#include "metrics/sysfs/hugepages.h"

#include <algorithm>
#include <filesystem>

#include "metrics/procfs/read_file.h"
#include "metrics/text.h"

namespace hostiso {

std::uint64_t HugePagePool::CommittedBytes() const {
  const std::uint64_t used = total > free ? total - free : 0;
  return std::min(total, used + reserved) * page_size_bytes;
}

std::optional<std::uint64_t> ParseHugePageDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "hugepages-";
  constexpr std::string_view kSuffix = "kB";
  if (name.size() <= kPrefix.size() + kSuffix.size() ||
      !name.starts_with(kPrefix) || !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  auto kib = ParseUint(name.substr(
      kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size()));
  if (!kib || *kib == 0) return std::nullopt;
  return *kib * 1024;
}

namespace {

Expected<std::uint64_t> ParseCounter(std::string_view text) {
  auto v = ParseUint(TrimSpace(text));
  if (!v) return Error("expected a number");
  return *v;
}

// <pool>/nr_hugepages and its siblings: one decimal count each.
Expected<std::uint64_t> ReadCounter(const std::string& path, bool optional) {
  auto count = ReadAndParse(path, ParseCounter);
  // An optional counter the kernel does not have (ENOENT) reads as 0; one it
  // has but that is unreadable or malformed is an error.
  if (!count && optional && count.failure().code() == ENOENT) {
    return std::uint64_t{0};
  }
  return count;
}

}  // namespace

Expected<std::vector<HugePagePool>> ReadHugePagePools(
    const std::string& sysfs) {
  return ReadHugePagePoolsIn(JoinPath(sysfs, "kernel/mm/hugepages"));
}

Expected<std::vector<HugePagePool>> ReadHugePagePoolsIn(
    const std::string& pools_dir) {
  std::vector<HugePagePool> pools;
  const std::filesystem::path dir = pools_dir;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    // No hugetlbfs support: no pools at all.
    if (ec == std::errc::no_such_file_or_directory) return pools;
    return Error(dir.string() + ": " + ec.message());
  }
  for (const auto& entry : it) {
    auto size = ParseHugePageDirName(entry.path().filename().string());
    if (!size) continue;
    const std::string base = entry.path().string() + "/";
    HugePagePool pool;
    pool.page_size_bytes = *size;
    HOSTISO_ASSIGN_OR_RETURN(pool.total,
                             ReadCounter(base + "nr_hugepages", false));
    HOSTISO_ASSIGN_OR_RETURN(pool.free,
                             ReadCounter(base + "free_hugepages", false));
    // Older kernels lack resv_hugepages.
    HOSTISO_ASSIGN_OR_RETURN(pool.reserved,
                             ReadCounter(base + "resv_hugepages", true));
    pools.push_back(pool);
  }
  std::sort(pools.begin(), pools.end(),
            [](const HugePagePool& a, const HugePagePool& b) {
              return a.page_size_bytes < b.page_size_bytes;
            });
  return pools;
}

std::vector<HugePagePool> PoolsFromMeminfo(const Meminfo& m) {
  if (m.hugepagesize_bytes == 0) return {};
  HugePagePool p;
  p.page_size_bytes = m.hugepagesize_bytes;
  p.total = m.hugepages_total;
  p.free = m.hugepages_free;
  p.reserved = m.hugepages_rsvd;
  return {p};
}

}  // namespace hostiso
