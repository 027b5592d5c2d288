#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// A set of logical CPU numbers (as in /proc/stat), stored as a bitmap.
class CpuSet {
 public:
  // Linux supports at most 8192 CPUs (NR_CPUS); anything above is a typo.
  static constexpr int kMaxCpus = 8192;

  CpuSet() = default;
  static CpuSet FromList(std::initializer_list<int> cpus);

  void Insert(int cpu);
  void Erase(int cpu);
  bool Contains(int cpu) const;
  bool Empty() const;
  int Count() const;
  // One past the highest member, 0 when empty.
  int End() const;
  std::vector<int> Members() const;

  CpuSet Union(const CpuSet& other) const;
  CpuSet Intersect(const CpuSet& other) const;
  CpuSet Minus(const CpuSet& other) const;
  bool Intersects(const CpuSet& other) const;

  // Canonical kernel form: "0-3,8,10-11"; empty set is "".
  std::string ToString() const;

  bool operator==(const CpuSet& other) const;

 private:
  void Trim();
  std::vector<std::uint64_t> words_;
};

enum class CpuListSyntax {
  // Kernel lists (/sys/devices/system/cpu/*, isolcpus=, nohz_full=): ranges and
  // the "a-b:used/group" stride form; "(null)" means empty.
  kKernel,
  // Nova's oslo option syntax: ranges plus "^N" exclusions.
  kNova,
};

// Parses a CPU list such as "0-3,8,10-11". Spaces around items are allowed.
// Reversed ranges and CPUs >= CpuSet::kMaxCpus are rejected with an error that
// quotes the offending item.
Expected<CpuSet> ParseCpuList(std::string_view text,
                              CpuListSyntax syntax = CpuListSyntax::kKernel);

}  // namespace hostiso
