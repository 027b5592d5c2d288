#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/census/census.h"
#include "metrics/cpu_shares.h"
#include "metrics/exporter_collectable.h"
#include "metrics/guest_inventory.h"
#include "metrics/isolation_source.h"
#include "metrics/latest.h"
#include "metrics/sysfs/cpu_layout.h"
#include "metrics/violations.h"

namespace hostiso {

// A vCPU shown on a CPU: pinned there (affinity of that CPU alone), or
// floating and last seen there.
struct StatusVcpuRef {
  std::string domain;
  int vcpu = 0;
  bool pinned = false;
};

// One online CPU of the core map.
struct StatusCpu {
  int cpu = 0;
  int node = -1, package = -1, core = -1;  // -1: layout unknown
  std::string role;  // CpuRoleName: host, dedicated, shared, guest
  bool isolated = false, nohz_full = false;
  std::optional<CpuShare> share;  // over the cpu collector's last interval
  std::vector<StatusVcpuRef> vcpus;
  std::string intruder;  // top host process there in the last census
  double intruder_seconds = 0;
  bool violating = false;  // named by a current violation
};

struct StatusVcpu {
  int vcpu = 0;
  int cpu_now = -1;  // -1: unknown
  std::string affinity;
};

// One guest: the continuous `virsh vcpuinfo`.
struct StatusGuest {
  std::string name, uuid, instance_name, cpu_policy;
  std::string emulator_affinity;
  std::vector<StatusVcpu> vcpus;
};

struct StatusViolation {
  std::string kind, subject, cpus;
};

struct StatusCollector {
  std::string name;
  std::string state;  // "ok", "failing", "disabled", "not run yet"
  std::string error;
  std::optional<double> age_seconds, duration_seconds;
};

// One row of the sources table: what the exporter reads and how it went.
struct StatusSource {
  std::string name, where, state;
};

// Everything the status page shows, gathered once per page view. Every string
// is as the host gave it (unescaped): the renderers escape.
struct StatusSnapshot {
  std::string version, telemetry_path;
  std::string layout_error;  // empty when the CPU layout was read
  std::optional<double> shares_interval_seconds, shares_age_seconds;
  std::optional<double> census_age_seconds, inventory_age_seconds;
  std::string inventory_source;
  std::vector<StatusCpu> cpus;  // by node, package, core, CPU
  std::vector<StatusViolation> violations;
  std::vector<StatusGuest> guests;
  std::vector<StatusCollector> collectors;
  std::vector<StatusSource> sources;
};

// The inputs of one page view, already read from their holders.
struct StatusInputs {
  std::string version, telemetry_path, procfs, sysfs;
  const IsolationSnapshot* isolation = nullptr;
  const CpuLayout* layout = nullptr;  // null when unreadable
  std::string layout_error;
  Latest<CpuShares>::Entry shares;
  Latest<CensusResult>::Entry census;
  std::shared_ptr<const GuestInventory> inventory;
  std::vector<std::pair<ViolationKind, std::vector<Violation>>> violations;
  // Every collector of the table: name and whether it is enabled.
  std::vector<std::pair<std::string, bool>> collectors;
  std::vector<CollectorStatus> statuses;
  std::chrono::steady_clock::time_point now_steady{};
  std::chrono::system_clock::time_point now_system{};
};

// Pure: the snapshot of `in`.
StatusSnapshot BuildStatusSnapshot(const StatusInputs& in);

}  // namespace hostiso
