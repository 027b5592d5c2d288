#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hostiso {

// The one rule for a vCPU thread: QEMU names them "CPU N/ACCEL"
// (accel/*/...-accel-ops.c): KVM, TCG without /dev/kvm, HVF, WHPX. Returns
// N, or nullopt for any other comm.
std::optional<int> VcpuIndexFromComm(std::string_view comm);

// The libvirt domain name a QEMU command line (/proc/PID/cmdline, NUL
// separated) runs, from "-name guest=NAME,..." (QEMU doubles commas inside
// the value) or the older "-name NAME"; nullopt for anything else, including
// processes whose argv[0] is not a qemu binary.
std::optional<std::string> QemuGuestNameFromCmdline(std::string_view cmdline);

// Scans <procfs>/[0-9]*/cmdline for QEMU processes: domain name -> pid.
std::map<std::string, pid_t> ScanQemuProcesses(const std::string& procfs);

// Threads of `pid` whose comm is a vCPU thread name (VcpuIndexFromComm): vCPU
// index -> thread id.
std::map<int, pid_t> FindVcpuThreads(const std::string& procfs, pid_t pid);

}  // namespace hostiso
