#!/usr/bin/env python3
"""numa_misplacement live (issue 13): a real libvirtd, real QEMU guests (KVM where
/dev/kvm exists, TCG otherwise), real /proc, and a fixture sysfs topology.

This machine has one NUMA node, so the exporter reads a generated sysfs tree
(--path.sysfs) in which CPU 0 is on node 0 and every other CPU on node 1,
while libvirt and /proc are this machine's. The libvirtd is started and
stopped by the soak test's Libvirtd helper (tests/soak/test_soak.py), as
tests/libvirt/test_libvirt_live.sh does. Three transient guests, each with
one vCPU and no disk:
  - numatune: <numatune><memory mode='strict' nodeset='0'/>, vCPU pinned to
    CPU 1 (node 1 in the fixture) -> flagged from the numatune nodeset;
  - plain: no numatune, vCPU pinned to CPU 1 -> flagged only because its
    QEMU's real Mems_allowed_list ("0", the one node this kernel has) is
    narrower than the fixture's nodes: the exporter read /proc/PID/status;
  - local: numatune node 0, vCPU pinned to CPU 0 (node 0) -> not flagged.
Exit: 0 pass, 1 fail, 77 skip (not root, no libvirtd, a libvirt daemon this
test did not start is running, fewer than 2 CPUs).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import exporter_harness as h  # noqa: E402
import generate  # noqa: E402
from libvirt_harness import Libvirtd, virsh  # noqa: E402

PREFIX = "hostiso-numa-"
GUESTS = {  # name: (numatune nodeset or None, pinned CPU)
    PREFIX + "numatune": ("0", 1),
    PREFIX + "plain": (None, 1),
    PREFIX + "local": ("0", 0),
}


def guest_xml(virt, name, nodeset, cpu):
    numatune = ("<numatune><memory mode='strict' nodeset='%s'/></numatune>" % nodeset
                if nodeset is not None else "")
    return """<domain type='%s'>
  <name>%s</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>1</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='%d'/><emulatorpin cpuset='%d'/></cputune>
  %s
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
""" % (virt, name, cpu, cpu, numatune)


def write_topology(root, ncpus):
    """A sysfs tree: CPU 0 on node 0, CPUs 1.. on node 1, no SMT."""
    cpus = list(range(ncpus))
    generate.write_memory(root, 4 * 1024 * 1024, 2 * 1024 * 1024, {},
                          nodes={0: (2 * 1024 * 1024, 1024 * 1024, {}),
                                 1: (2 * 1024 * 1024, 1024 * 1024, {})})
    generate.make_host(root, cpus, cpus, [], [], "ro", None, set(), schedstat=False,
                       place=lambda c: (0, c), nodes={0: [0], 1: cpus[1:]})
    return os.path.join(root, "sys")


def qemu_mems_allowed(name):
    """Mems_allowed_list of the QEMU running guest `name`, read here as a cross-check."""
    pgrep = subprocess.run(["pgrep", "-f", "guest=%s," % name], capture_output=True, text=True)
    for pid in pgrep.stdout.split():
        try:
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("Mems_allowed_list:"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
    return None


def kill_leftover_qemu():
    """QEMUs of this test's guests whose libvirtd is gone: only our guest names."""
    pgrep = subprocess.run(["pgrep", "-f", "guest=" + PREFIX], capture_output=True, text=True)
    for pid in pgrep.stdout.split():
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() == "qemu-system-x86":
                    os.kill(int(pid), 9)
        except (OSError, ProcessLookupError):
            pass


def misplaced(samples):
    return {s[1]["subject"]: s[1]["cpus"]
            for s in h.select(samples, "hostiso_violation_info", kind="numa_misplacement")}


def settle_virtlogd(timeout=15):
    """Waits while a virtlogd is running without its socket: one still exiting (a
    previous test stopped it). The Libvirtd helper would take it for a live one
    and not start its own, and every guest would fail to start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = subprocess.run(["pgrep", "-x", "virtlogd"], capture_output=True).returncode == 0
        if not running or os.path.exists("/run/libvirt/virtlogd-sock"):
            return True
        time.sleep(0.2)
    return False


def run(args, lv, work, c):
    sysfs = write_topology(os.path.join(work, "host"), os.cpu_count())
    settled = settle_virtlogd()
    c.check(settled, "no half-stopped virtlogd left by another test")
    if not settled:
        return
    why = lv.start()
    if why:
        c.check(False, why)
        return
    for name, (nodeset, cpu) in GUESTS.items():
        path = os.path.join(work, name + ".xml")
        with open(path, "w") as f:
            f.write(guest_xml(lv.virt, name, nodeset, cpu))
        ok, out = virsh("create", path)
        c.check(ok, "guest %s started (%s): %s" % (name, lv.virt, out.strip()))
    c.check(qemu_mems_allowed(PREFIX + "plain") == "0",
            "the plain guest's QEMU has Mems_allowed_list 0 (this kernel's one node)")
    flags = ["--collector.disable-defaults", "--collector.isolation", "--collector.libvirt",
             "--collector.topology", "--isolation.guest-cpus=1", "--path.sysfs=" + sysfs,
             "--nova.config=%s/missing-nova.conf" % work, "--libvirt.refresh-interval=2",
             "--runtime.confine-to-host-cpus=false"]
    want = {PREFIX + "numatune (vcpus on node 1, memory on node 0)": "1",
            PREFIX + "plain (vcpus on node 1, memory on node 0)": "1"}
    with h.Exporter(args.exporter, flags) as ex:
        samples = ex.wait_for(lambda s: len(misplaced(s)) >= 2, timeout=60)
        got = misplaced(samples or h.parse(ex.metrics()))
        c.check(got == want, "numa_misplacement subjects: %r" % got)
        final = h.parse(ex.metrics())
        c.check(h.select(final, "hostiso_collector_success", collector="topology")[0][2] == 1,
                "topology collector succeeded")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    lv = Libvirtd(tempfile.gettempdir(), GUESTS, PREFIX)
    why = lv.why_not()
    if why is None and (os.cpu_count() or 1) < 2:
        why = "needs at least 2 CPUs (a vCPU on CPU 1, another on CPU 0)"
    if why:
        print("SKIP:", why)
        return h.SKIP
    work = tempfile.mkdtemp(prefix="hostiso-numa-live-")
    os.chmod(work, 0o755)
    c = h.Checker()
    try:
        run(args, lv, work, c)
    finally:
        for name in GUESTS:
            virsh("destroy", name, timeout=30)
            for d in ("/var/log/libvirt/qemu",):
                log = os.path.join(d, name + ".log")
                if os.path.exists(log):
                    os.unlink(log)
        kill_leftover_qemu()
        lv.stop()
        shutil.rmtree(work, ignore_errors=True)
    return c.finish([])


if __name__ == "__main__":
    sys.exit(main())
