#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// A volume group as LVM reports it.
struct VolumeGroupInfo {
  std::string name;
  std::uint64_t size_bytes = 0;
  std::uint64_t free_bytes = 0;
  std::vector<std::string> physical_volumes;  // /dev/... nodes
};

// Parses the report of
//   vgs --readonly --reportformat json --units b --nosuffix
//       -o vg_name,vg_size,vg_free,pv_name -- VG
// (one row per physical volume; LVM writes every value as a JSON string).
// Error when the group is not in the report.
Expected<VolumeGroupInfo> ParseVgsReport(std::string_view json,
                                         std::string_view vg_name);

// The argv of that command for one volume group.
std::vector<std::string> VgsCommand(const std::string& vgs_binary,
                                    const std::string& vg_name);

// Runs argv[0] (searched in PATH, then /usr/sbin and /sbin) with no shell and
// returns its stdout when it exits 0 within `timeout`; otherwise kills it and
// returns an error with the exit status and the first line of stderr.
using CommandRunner = std::function<Expected<std::string>(
    const std::vector<std::string>& argv, std::chrono::milliseconds timeout)>;
Expected<std::string> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout);

}  // namespace hostiso
