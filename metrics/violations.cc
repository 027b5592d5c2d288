#include "metrics/violations.h"

#include "metrics/family_builder.h"
#include "metrics/log.h"

namespace hostiso {

std::string_view ViolationKindName(ViolationKind kind) {
  static constexpr std::array<std::string_view, kViolationKindCount> kNames = {
      "vcpu_on_host_cpu",
      "emulator_on_host_cpu",
      "dedicated_cpu_shared",
      "host_task_on_guest_cpu",
      "irq_on_guest_cpu",
      "isolcpus_mismatch",
      "cpu_overcommit",
      "ram_overcommit",
      "memory_reserve_breach",
      "disk_reserve_breach",
      "disk_layout",
      "smt_sibling_shared",
      "numa_misplacement",
      "host_slice_on_guest_cpu",
      "machine_slice_on_host_cpu"};
  return kNames[static_cast<std::size_t>(kind)];
}

void ViolationRegistry::Report(ViolationKind kind, std::vector<Violation> now,
                               Clock::time_point at) {
  std::map<std::string, CpuSet> next;
  for (Violation& v : now) {
    // Two reports of one subject merge their CPUs.
    auto [it, inserted] = next.try_emplace(std::move(v.subject), v.cpus);
    if (!inserted) it->second = it->second.Union(v.cpus);
  }
  MutexLock lock(mu_);
  KindState& state = kinds_[static_cast<std::size_t>(kind)];
  for (const auto& [subject, cpus] : next) {
    if (state.subjects.count(subject) == 0) ++state.onsets;
  }
  state.subjects = std::move(next);
  state.last_report = at;
}

void ViolationRegistry::SetMaxAge(ViolationKind kind,
                                  std::chrono::duration<double> max_age) {
  MutexLock lock(mu_);
  kinds_[static_cast<std::size_t>(kind)].max_age = max_age;
}

void ViolationRegistry::ExpireStale(Clock::time_point now) {
  MutexLock lock(mu_);
  for (std::size_t i = 0; i < kViolationKindCount; ++i) {
    KindState& state = kinds_[i];
    if (state.subjects.empty() || now - state.last_report <= state.max_age)
      continue;
    log::Warn(
        "violations expired: their detector could not evaluate for longer "
        "than its max age",
        {{"kind", ViolationKindName(static_cast<ViolationKind>(i))},
         {"subjects", std::to_string(state.subjects.size())}});
    state.subjects.clear();
  }
}

std::vector<Violation> ViolationRegistry::Current(ViolationKind kind) const {
  MutexLock lock(mu_);
  std::vector<Violation> out;
  for (const auto& [subject, cpus] :
       kinds_[static_cast<std::size_t>(kind)].subjects)
    out.push_back(Violation{subject, cpus});
  return out;
}

std::uint64_t ViolationRegistry::Onsets(ViolationKind kind) const {
  MutexLock lock(mu_);
  return kinds_[static_cast<std::size_t>(kind)].onsets;
}

void ViolationRegistry::AppendMetrics(
    std::vector<prometheus::MetricFamily>& out, std::size_t max_info) const {
  auto gauge = FamilyBuilder::Gauge(
      "hostiso_violating_subjects",
      "Subjects violating host/guest isolation now, by kind.");
  auto total =
      FamilyBuilder::Counter("hostiso_violations_total",
                             "Times a subject entered violation, by kind.");
  auto info = FamilyBuilder::Gauge(
      "hostiso_violation_info",
      "One series per subject violating now; cpus is the offending CPU list.");
  std::size_t info_left = max_info;
  MutexLock lock(mu_);
  for (std::size_t i = 0; i < kViolationKindCount; ++i) {
    const KindState& state = kinds_[i];
    std::string_view kind = ViolationKindName(static_cast<ViolationKind>(i));
    gauge.Add({{"kind", kind}}, static_cast<double>(state.subjects.size()));
    total.Add({{"kind", kind}}, static_cast<double>(state.onsets));
    for (const auto& [subject, cpus] : state.subjects) {
      if (info_left == 0) break;
      --info_left;
      info.Add(
          {{"kind", kind}, {"subject", subject}, {"cpus", cpus.ToString()}}, 1);
    }
  }
  std::move(gauge).AppendTo(out);
  std::move(total).AppendTo(out);
  std::move(info).AppendTo(out);
}

}  // namespace hostiso
