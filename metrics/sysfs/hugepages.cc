#include "metrics/sysfs/hugepages.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

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

// A counter file's text ("512\n").
Expected<std::uint64_t> ParseHugePageCounter(std::string_view text) {
  auto v = ParseUint(TrimSpace(text));
  if (!v) return Error("expected a number");
  return *v;
}

}  // namespace

Expected<std::uint64_t> ReadHugePageCounter(const std::string& path,
                                            KeptKernfsFiles* kept) {
  // A count is at most 20 digits and a newline; anything longer is no
  // counter (and an error, not a truncated number).
  char buf[64];
  HOSTISO_ASSIGN_OR_RETURN(std::string_view text,
                           ReadKernfsFile(kept, path, buf, sizeof buf));
  auto count = ParseHugePageCounter(text);
  if (!count) return count.failure().WithContext(path);
  return count;
}

Expected<std::vector<HugePageDir>> ListHugePageDirs(const std::string& dir) {
  std::vector<HugePageDir> pools;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    // No hugetlbfs support: no pools at all.
    if (ec == std::errc::no_such_file_or_directory) return pools;
    return Error(dir + ": " + ec.message());
  }
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    auto size = ParseHugePageDirName(name);
    if (size) pools.push_back({*size, std::move(name)});
  }
  std::sort(pools.begin(), pools.end(),
            [](const HugePageDir& a, const HugePageDir& b) {
              return a.page_size_bytes < b.page_size_bytes;
            });
  return pools;
}

Expected<std::vector<HugePagePool>> ReadHugePagePools(
    const std::string& sysfs) {
  return ReadHugePagePoolsIn(JoinPath(sysfs, "kernel/mm/hugepages"));
}

Expected<std::vector<HugePagePool>> ReadHugePagePoolsIn(
    const std::string& pools_dir) {
  HOSTISO_ASSIGN_OR_RETURN(std::vector<HugePageDir> dirs,
                           ListHugePageDirs(pools_dir));
  std::vector<HugePagePool> pools;
  pools.reserve(dirs.size());
  for (const HugePageDir& dir : dirs) {
    const std::string base = JoinPath(pools_dir, dir.name) + "/";
    HugePagePool pool;
    pool.page_size_bytes = dir.page_size_bytes;
    HOSTISO_ASSIGN_OR_RETURN(pool.total,
                             ReadHugePageCounter(base + "nr_hugepages"));
    HOSTISO_ASSIGN_OR_RETURN(pool.free,
                             ReadHugePageCounter(base + "free_hugepages"));
    // Only kernel/mm/hugepages has resv_hugepages (per-node pools and older
    // kernels do not): absent reads as 0, unreadable or malformed is an error.
    auto reserved = ReadHugePageCounter(base + "resv_hugepages");
    if (reserved) {
      pool.reserved = *reserved;
    } else if (reserved.failure().code() != ENOENT) {
      return reserved.failure();
    }
    pools.push_back(pool);
  }
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
