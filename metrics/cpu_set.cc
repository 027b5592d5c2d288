#include "metrics/cpu_set.h"

#include <bit>
#include <charconv>

#include "metrics/text.h"

namespace hostiso {

CpuSet CpuSet::FromList(std::initializer_list<int> cpus) {
  CpuSet set;
  for (int cpu : cpus) set.Insert(cpu);
  return set;
}

void CpuSet::Insert(int cpu) {
  if (cpu < 0) return;
  std::size_t word = static_cast<std::size_t>(cpu) / 64;
  if (words_.size() <= word) words_.resize(word + 1, 0);
  words_[word] |= std::uint64_t{1} << (cpu % 64);
}

void CpuSet::Erase(int cpu) {
  if (!Contains(cpu)) return;
  words_[static_cast<std::size_t>(cpu) / 64] &=
      ~(std::uint64_t{1} << (cpu % 64));
  Trim();
}

bool CpuSet::Contains(int cpu) const {
  if (cpu < 0) return false;
  std::size_t word = static_cast<std::size_t>(cpu) / 64;
  return word < words_.size() && ((words_[word] >> (cpu % 64)) & 1U) != 0;
}

bool CpuSet::Empty() const { return words_.empty(); }

int CpuSet::Count() const {
  int n = 0;
  for (auto w : words_) n += std::popcount(w);
  return n;
}

int CpuSet::End() const {
  if (words_.empty()) return 0;
  return static_cast<int>((words_.size() - 1) * 64) + 64 -
         std::countl_zero(words_.back());
}

std::vector<int> CpuSet::Members() const {
  std::vector<int> out;
  for (std::size_t i = 0; i < words_.size(); ++i) {
    std::uint64_t w = words_[i];
    while (w != 0) {
      out.push_back(static_cast<int>(i * 64) + std::countr_zero(w));
      w &= w - 1;
    }
  }
  return out;
}

CpuSet CpuSet::Union(const CpuSet& other) const {
  CpuSet out = *this;
  if (out.words_.size() < other.words_.size())
    out.words_.resize(other.words_.size(), 0);
  for (std::size_t i = 0; i < other.words_.size(); ++i)
    out.words_[i] |= other.words_[i];
  return out;
}

CpuSet CpuSet::Intersect(const CpuSet& other) const {
  CpuSet out;
  out.words_.resize(std::min(words_.size(), other.words_.size()));
  for (std::size_t i = 0; i < out.words_.size(); ++i)
    out.words_[i] = words_[i] & other.words_[i];
  out.Trim();
  return out;
}

CpuSet CpuSet::Minus(const CpuSet& other) const {
  CpuSet out = *this;
  for (std::size_t i = 0; i < out.words_.size() && i < other.words_.size(); ++i)
    out.words_[i] &= ~other.words_[i];
  out.Trim();
  return out;
}

bool CpuSet::Intersects(const CpuSet& other) const {
  for (std::size_t i = 0; i < words_.size() && i < other.words_.size(); ++i)
    if ((words_[i] & other.words_[i]) != 0) return true;
  return false;
}

std::string CpuSet::ToString() const {
  std::string out;
  std::vector<int> cpus = Members();
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(cpus[j]);
    }
    i = j + 1;
  }
  return out;
}

bool CpuSet::operator==(const CpuSet& other) const {
  return words_ == other.words_;
}

void CpuSet::Trim() {
  while (!words_.empty() && words_.back() == 0) words_.pop_back();
}

namespace {

Expected<int> ParseCpuNumber(std::string_view item, std::string_view whole) {
  int value = 0;
  auto [end, ec] =
      std::from_chars(item.data(), item.data() + item.size(), value);
  if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
    return Error("invalid CPU list '" + std::string(whole) +
                 "': expected a CPU number, got '" + std::string(item) + "'");
  }
  if (value < 0 || value >= CpuSet::kMaxCpus) {
    return Error("invalid CPU list '" + std::string(whole) + "': CPU " +
                 std::string(item) + " is out of range (0-" +
                 std::to_string(CpuSet::kMaxCpus - 1) + ")");
  }
  return value;
}

}  // namespace

Expected<CpuSet> ParseCpuList(std::string_view text, CpuListSyntax syntax) {
  std::string_view whole = TrimSpace(text);
  CpuSet included;
  CpuSet excluded;
  if (whole.empty() ||
      (syntax == CpuListSyntax::kKernel && whole == "(null)")) {
    return included;
  }
  for (std::string_view raw : Split(whole, ',')) {
    std::string_view item = TrimSpace(raw);
    if (item.empty()) {
      return Error("invalid CPU list '" + std::string(whole) +
                   "': empty item between commas");
    }
    bool exclude = false;
    if (item.front() == '^') {
      if (syntax != CpuListSyntax::kNova) {
        return Error("invalid CPU list '" + std::string(whole) +
                     "': '^' exclusions are only valid in nova.conf");
      }
      exclude = true;
      item = TrimSpace(item.substr(1));
    }
    // Kernel stride form "a-b:used/group"
    // (Documentation/admin-guide/kernel-parameters.rst).
    int used = 1;
    int group = 1;
    if (auto colon = item.find(':'); colon != std::string_view::npos) {
      if (syntax != CpuListSyntax::kKernel || exclude) {
        return Error("invalid CPU list '" + std::string(whole) +
                     "': unexpected ':' in '" + std::string(item) + "'");
      }
      std::string_view stride = item.substr(colon + 1);
      item = item.substr(0, colon);
      auto slash = stride.find('/');
      if (slash == std::string_view::npos) {
        return Error("invalid CPU list '" + std::string(whole) +
                     "': expected 'used/group' after ':'");
      }
      HOSTISO_ASSIGN_OR_RETURN(used,
                               ParseCpuNumber(stride.substr(0, slash), whole));
      HOSTISO_ASSIGN_OR_RETURN(group,
                               ParseCpuNumber(stride.substr(slash + 1), whole));
      if (group == 0 || used == 0 || used > group) {
        return Error("invalid CPU list '" + std::string(whole) +
                     "': bad stride " + std::string(stride));
      }
    }
    int first = 0;
    int last = 0;
    if (auto dash = item.find('-'); dash != std::string_view::npos) {
      HOSTISO_ASSIGN_OR_RETURN(
          first, ParseCpuNumber(TrimSpace(item.substr(0, dash)), whole));
      HOSTISO_ASSIGN_OR_RETURN(
          last, ParseCpuNumber(TrimSpace(item.substr(dash + 1)), whole));
      if (last < first) {
        return Error("invalid CPU list '" + std::string(whole) + "': range '" +
                     std::string(item) + "' ends before it starts");
      }
    } else {
      HOSTISO_ASSIGN_OR_RETURN(first, ParseCpuNumber(item, whole));
      last = first;
    }
    CpuSet& target = exclude ? excluded : included;
    for (int cpu = first; cpu <= last; ++cpu) {
      if ((cpu - first) % group < used) target.Insert(cpu);
    }
  }
  return included.Minus(excluded);
}

}  // namespace hostiso
