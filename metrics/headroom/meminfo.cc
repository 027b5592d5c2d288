#include "metrics/headroom/meminfo.h"

#include <algorithm>
#include <filesystem>

#include "metrics/file_reader.h"
#include "metrics/text.h"

namespace hostiso {

Expected<Meminfo> ParseMeminfo(std::string_view text) {
  Meminfo m;
  bool have_total = false, have_available = false;
  for (std::string_view line : Split(text, '\n')) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = TrimSpace(line.substr(0, colon));
    std::vector<std::string_view> fields = SplitFields(line.substr(colon + 1));
    if (fields.empty()) continue;
    std::optional<std::uint64_t> v = ParseUint(fields[0]);
    if (!v) {
      return Expected<Meminfo>::Error("meminfo: " + std::string(key) +
                                      ": expected a number, got '" +
                                      std::string(fields[0]) + "'");
    }
    // "kB" in /proc/meminfo means KiB.
    const std::uint64_t bytes =
        fields.size() > 1 && fields[1] == "kB" ? *v * 1024 : *v;
    if (key == "MemTotal") {
      m.mem_total = bytes;
      have_total = true;
    } else if (key == "MemAvailable") {
      m.mem_available = bytes;
      have_available = true;
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
  if (!have_total) return Expected<Meminfo>::Error("meminfo: no MemTotal line");
  if (!have_available) {
    return Expected<Meminfo>::Error(
        "meminfo: no MemAvailable line (kernel older than 3.14?)");
  }
  return m;
}

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

Expected<std::uint64_t> ReadCounter(const std::string& path, bool optional) {
  auto text = ReadFile(path);
  if (!text) {
    if (optional) return std::uint64_t{0};
    return Expected<std::uint64_t>::Error(text.error());
  }
  auto v = ParseUint(TrimSpace(*text));
  if (!v) return Expected<std::uint64_t>::Error(path + ": expected a number");
  return *v;
}

}  // namespace

Expected<std::vector<HugePagePool>> ReadHugePagePools(
    const std::string& sysfs) {
  using Result = Expected<std::vector<HugePagePool>>;
  std::vector<HugePagePool> pools;
  const std::filesystem::path dir = JoinPath(sysfs, "kernel/mm/hugepages");
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    // No hugetlbfs support: no pools at all.
    if (ec == std::errc::no_such_file_or_directory) return pools;
    return Result::Error(dir.string() + ": " + ec.message());
  }
  for (const auto& entry : it) {
    auto size = ParseHugePageDirName(entry.path().filename().string());
    if (!size) continue;
    const std::string base = entry.path().string() + "/";
    HugePagePool pool;
    pool.page_size_bytes = *size;
    auto total = ReadCounter(base + "nr_hugepages", false);
    if (!total) return Result::Error(total.error());
    auto free = ReadCounter(base + "free_hugepages", false);
    if (!free) return Result::Error(free.error());
    auto resv =
        ReadCounter(base + "resv_hugepages", true);  // older kernels lack it
    if (!resv) return Result::Error(resv.error());
    pool.total = *total;
    pool.free = *free;
    pool.reserved = *resv;
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

Expected<Statm> ParseStatm(std::string_view text) {
  std::vector<std::string_view> f = SplitFields(TrimSpace(text));
  if (f.size() < 3)
    return Expected<Statm>::Error("statm: expected at least 3 fields");
  auto resident = ParseUint(f[1]);
  auto shared = ParseUint(f[2]);
  if (!resident || !shared)
    return Expected<Statm>::Error("statm: expected numbers");
  return Statm{*resident, *shared};
}

}  // namespace hostiso
