#!/usr/bin/env python3
"""Live test of the cgroup collector on this machine's cgroup v1 cpuset hierarchy.

Creates a cpuset cgroup of its own (/sys/fs/cgroup/cpuset/hostiso-test-PID.slice)
whose cpus cover the guest-role CPU (the last online CPU, given to the exporter by
--isolation.guest-cpus), names it with --cgroup.host-slice, puts a sleeping process
in it and scrapes: host_slice_on_guest_cpu with subject "slice hostiso-test-PID.slice"
and cpus = the guest CPU. Then narrows the cgroup's cpus to the host CPUs: the kernel
moves the sleeper off the guest CPU and the violation disappears. The task is moved
back to the root cpuset and the cgroup removed in a finally block.

When libvirt's `machine` cpuset exists, its series are checked against the kernel's
file; a running guest in it is the libvirt_live test's part (real libvirtd).

Needs root and a v1 cpuset hierarchy; exits 77 (skip) otherwise.
Usage: test_cgroup_live.py --exporter PATH
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import exporter_harness as h  # noqa: E402

CPUSET = "/sys/fs/cgroup/cpuset"


def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def cpu_list_members(text):
    out = []
    for item in filter(None, text.split(",")):
        lo, _, hi = item.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def canonical(cpus):
    """The kernel's list form, as the exporter writes it: "0-3,8"."""
    cpus, out, i = sorted(cpus), [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(out)


def prerequisites(exporter):
    if os.geteuid() != 0:
        return "needs root (creates a cpuset cgroup)"
    if not os.path.exists(os.path.join(CPUSET, "cpuset.cpus")):
        return "no cgroup v1 cpuset hierarchy at %s (cgroup v2 is tested on fixtures)" % CPUSET
    if len(cpu_list_members(read("/sys/devices/system/cpu/online"))) < 2:
        return "needs at least 2 online CPUs (a host CPU and a guest CPU)"
    if not os.access(exporter, os.X_OK):
        return "exporter binary %s not built" % exporter
    return None


def allowed_cpus(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
    return ""


def violation(samples, subject):
    return h.select(samples, "hostiso_violation_info", kind="host_slice_on_guest_cpu",
                    subject=subject)


def check_slice(c, ex, slice_name, cg, sleeper, guest, host):
    subject = "slice " + slice_name
    wide = canonical(host + [guest])
    s = ex.wait_for(lambda s: violation(s, subject), timeout=10)
    c.check(s is not None, "%s reported as host_slice_on_guest_cpu" % subject)
    s = s or h.parse(ex.metrics())
    c.check([x[1].get("cpus") for x in violation(s, subject)] == [str(guest)],
            "offending cpus = the guest CPU %d: %s" % (guest, violation(s, subject)))
    c.check(h.select(s, "hostiso_cgroup_cpuset_info", slice=slice_name, cpus=wide) != [],
            "hostiso_cgroup_cpuset_info{slice=%s,cpus=%s}" % (slice_name, wide))
    c.check(h.select(s, "hostiso_collector_success", collector="cgroup")[0][2] == 1,
            "cgroup collector succeeds")
    c.check(allowed_cpus(sleeper.pid) == wide,
            "the sleeper may run on %s (Cpus_allowed_list %s)" % (wide, allowed_cpus(sleeper.pid)))

    write(os.path.join(cg, "cpuset.cpus"), canonical(host))
    s = ex.wait_for(lambda s: not violation(s, subject), timeout=10)
    c.check(s is not None, "%s no longer reported once narrowed to host CPUs %s"
            % (subject, canonical(host)))
    s = s or h.parse(ex.metrics())
    c.check(h.select(s, "hostiso_cgroup_cpuset_info", slice=slice_name,
                     cpus=canonical(host)) != [],
            "cpuset_info follows the narrowed cpuset (%s)" % canonical(host))
    c.check(allowed_cpus(sleeper.pid) == canonical(host),
            "the kernel moved the sleeper to %s" % canonical(host))


def check_machine_slice(c, ex, skipped, guest_cpus):
    """libvirt's machine cpuset (v1 without systemd: `machine`) as the kernel has it."""
    names = [n for n in ("machine.slice", "machine") if os.path.isdir(os.path.join(CPUSET, n))]
    if not names:
        skipped.append("libvirt machine slice: none on this host (no guest since boot); "
                       "the libvirt_live test checks it with real guests")
        return
    name = names[0]
    want = canonical(cpu_list_members(read(os.path.join(CPUSET, name, "cpuset.effective_cpus"))))
    s = h.parse(ex.metrics())
    c.check(h.select(s, "hostiso_cgroup_cpuset_info", slice=name, cpus=want) != [],
            "machine slice %s: cpuset_info cpus=%s as the kernel's file" % (name, want))
    host = canonical([cpu for cpu in cpu_list_members(want) if cpu not in guest_cpus])
    got = [x[1].get("cpus") for x in h.select(s, "hostiso_violation_info",
                                              kind="machine_slice_on_host_cpu",
                                              subject="slice " + name)]
    c.check(got == ([host] if host else []),
            "machine_slice_on_host_cpu for %s: %s (want host CPUs %r)" % (name, got, host))
    check_machine_cpu_time(c, ex, name)


def kernel_cpu_seconds(name):
    """The slice's CPU time straight from the kernel: v1 cpuacct.usage, or (a cgroup
    libvirt left out of a cpuacct hierarchy not co-mounted with cpu) the hybrid
    unified hierarchy's cpu.stat usage_usec. None when neither has it."""
    for d in ("cpuacct", "cpu,cpuacct"):
        path = os.path.join("/sys/fs/cgroup", d, name)
        if os.path.isdir(path):
            return int(read(os.path.join(path, "cpuacct.usage"))) / 1e9
    stat = os.path.join("/sys/fs/cgroup/unified", name, "cpu.stat")
    if os.path.exists(stat):
        for line in read(stat).splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
    return None


def check_machine_cpu_time(c, ex, name):
    """The machine slice's CPU time lies between two reads of the kernel's counter."""
    before = kernel_cpu_seconds(name)
    if before is None:
        c.check(False, "machine slice %s: no cpuacct.usage nor unified cpu.stat" % name)
        return
    got = h.select(h.parse(ex.metrics()), "hostiso_cgroup_cpu_seconds_total", slice=name)
    after = kernel_cpu_seconds(name)
    c.check(len(got) == 1 and before - 1e-6 <= got[0][2] <= after + 1e-6,
            "machine slice CPU time %s within the kernel's %.6f..%.6f s" % (got, before, after))
    time.sleep(2)
    later = h.select(h.parse(ex.metrics()), "hostiso_cgroup_cpu_seconds_total", slice=name)
    if got and later:
        print("machine slice %s: %.3f s of CPU time; %.3f s/s over 2 s (guests running in it: "
              "%s)" % (name, got[0][2], (later[0][2] - got[0][2]) / 2, guest_tasks(name)))


def guest_tasks(name):
    """Processes in the machine slice's cpuset cgroups (QEMU of running guests)."""
    pids = set()
    for d, _, files in os.walk(os.path.join(CPUSET, name)):
        if "cgroup.procs" in files:
            pids.update(read(os.path.join(d, "cgroup.procs")).split())
    return len(pids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    why = prerequisites(args.exporter)
    if why:
        print("SKIP:", why)
        return h.SKIP
    online = cpu_list_members(read("/sys/devices/system/cpu/online"))
    guest, host = online[-1], online[:-1]
    slice_name = "hostiso-test-%d.slice" % os.getpid()
    cg = os.path.join(CPUSET, slice_name)
    c, skipped = h.Checker(), []
    os.mkdir(cg)
    sleeper = None
    try:
        # A v1 cpuset takes no task until it has CPUs and memory nodes.
        write(os.path.join(cg, "cpuset.mems"), read(os.path.join(CPUSET, "cpuset.mems")))
        write(os.path.join(cg, "cpuset.cpus"), canonical(host + [guest]))
        sleeper = subprocess.Popen(["sleep", "600"])
        write(os.path.join(cg, "tasks"), str(sleeper.pid))
        flags = ["--collector.disable-defaults", "--collector.cgroup", "--collector.isolation",
                 "--isolation.guest-cpus=%d" % guest, "--cgroup.host-slice=" + slice_name]
        with h.Exporter(args.exporter, flags) as ex:
            check_slice(c, ex, slice_name, cg, sleeper, guest, host)
            check_machine_slice(c, ex, skipped, [guest])
    finally:
        if sleeper is not None:
            try:
                write(os.path.join(CPUSET, "tasks"), str(sleeper.pid))
            except OSError as e:
                print("cleanup: moving %d out: %s" % (sleeper.pid, e))
            h.stop_process(sleeper)
        os.rmdir(cg)
    return c.finish(skipped)


if __name__ == "__main__":
    sys.exit(main())
