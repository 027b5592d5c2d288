#!/usr/bin/env python3
"""Broken and hostile kernel and config files (issue 11): the exporter keeps serving.

Runs the exporter on a copy of the guest_host fixture with every collector on,
then breaks one input at a time: a FIFO, a link to /dev/zero, a symlink loop,
an empty or truncated file, a malformed value, nova.conf as a FIFO or
/dev/zero, and (as an unprivileged user) a file with mode 000; and SIGTERM
while the libvirt worker is stuck reading a socket that never answers. For each:
the scrape answers within the timeout, the collector that reads the file
reports success 0 and leaves its series out (no plausible number), the other
collectors still succeed, and the file is named in one log line. Restoring
the file makes the collector succeed again.
"""
import argparse
import os
import pwd
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import exporter_harness as h  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "guest_host")
COLLECTORS = ["cpu", "isolation", "libvirt", "census", "interrupts", "memory", "disk"]

# (name, file relative to the tree, how to break it, collector, series that must be absent)
KERNEL_CASES = [
    ("stat as a FIFO", "proc/stat", "fifo", "cpu", "hostiso_cpu_seconds_total"),
    ("stat linked to /dev/zero", "proc/stat", "zero", "cpu", "hostiso_cpu_seconds_total"),
    ("stat with only the aggregate line", "proc/stat", "cpu  1 2 3 4\n", "cpu",
     "hostiso_cpu_seconds_total"),
    ("interrupts as a symlink loop", "proc/interrupts", "loop", "interrupts",
     "hostiso_cpu_device_interrupts_total"),
    ("empty meminfo", "proc/meminfo", "", "memory", "hostiso_memory_total_bytes"),
    ("isolated is 'abc'", "sys/devices/system/cpu/isolated", "abc\n", "isolation",
     "hostiso_cpu_isolated"),
    ("empty cpu/online", "sys/devices/system/cpu/online", "", "isolation", "hostiso_cpu_role"),
    ("hugepage pool unreadable", "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
     "x\n", "memory", "hostiso_memory_host_used_bytes"),
]


def break_file(path, how):
    os.rename(path, path + ".good")
    if how == "fifo":
        os.mkfifo(path)
    elif how == "zero":
        os.symlink("/dev/zero", path)
    elif how == "loop":
        os.symlink(path, path)
    else:
        with open(path, "w") as f:
            f.write(how)


def restore_file(path):
    os.remove(path)
    os.rename(path + ".good", path)


def success(samples):
    return {s[1]["collector"]: s[2] for s in h.select(samples, "hostiso_collector_success")}


def timed_scrape(ex):
    start = time.monotonic()
    samples = h.parse(ex.metrics())
    return samples, time.monotonic() - start


def check_kernel_case(c, ex, tree, case):
    name, rel, how, collector, series = case
    path = os.path.join(tree, rel)
    break_file(path, how)
    try:
        samples, took = timed_scrape(ex)
        c.check(took < 5, "%s: scrape answered in %.2f s" % (name, took))
        ok = success(samples)
        c.check(ok.get(collector) == 0, "%s: %s success 0" % (name, collector))
        others = {k: v for k, v in ok.items() if k != collector and v != 1}
        c.check(not others, "%s: the other collectors still succeed (%s)" % (name, others))
        c.check(not h.select(samples, series), "%s: %s absent" % (name, series))
    finally:
        restore_file(path)
    recovered = ex.wait_for(lambda s: success(s).get(collector) == 1, timeout=5)
    c.check(recovered is not None, "%s: %s succeeds again once restored" % (name, collector))


def nova_success(samples):
    return [s[2] for s in h.select(samples, "hostiso_config_load_success", source="nova")]


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def check_nova_case(c, ex, tree, name, how):
    path = os.path.join(tree, "nova.conf")
    rss_before = vm_rss_kib(ex.proc.pid)
    break_file(path, how)
    try:
        ex.proc.send_signal(__import__("signal").SIGHUP)
        samples = ex.wait_for(lambda s: nova_success(s) == [0], timeout=5)
        c.check(samples is not None, "nova.conf %s: load_success 0 after SIGHUP" % name)
        if samples is not None:
            c.check(h.value(samples, "hostiso_cpu_role", cpu="3", role="dedicated") == 1,
                    "nova.conf %s: the last good roles are kept" % name)
        # Relative to the exporter's own size before (a sanitizer build is
        # several times larger): reading /dev/zero without a cap grew it by
        # about 100 MB a second.
        grown = vm_rss_kib(ex.proc.pid) - rss_before
        c.check(grown < 64 * 1024, "nova.conf %s: memory bounded (RSS %+d KiB)" % (name, grown))
    finally:
        restore_file(path)
    ex.proc.send_signal(__import__("signal").SIGHUP)
    c.check(ex.wait_for(lambda s: nova_success(s) == [1], timeout=5) is not None,
            "nova.conf %s: loads again once restored" % name)


def exporter_flags(tree):
    return h.fixture_flags(tree, ["--census.interval=1", "--isolation.refresh-interval=3600",
                                  "--runtime.confine-to-host-cpus=false"])


def check_logged_once(c, stderr, tree):
    for rel in sorted({case[1] for case in KERNEL_CASES}):
        path = os.path.join(tree, rel)
        lines = [ln for ln in stderr.splitlines() if "failed" in ln and path in ln]
        c.check(len(lines) >= 1, "%s: named in a log line" % rel)
    secrets = [ln for ln in stderr.splitlines() if "RabbitSecret" in ln]
    c.check(not secrets, "no nova.conf secret in the log: %s" % secrets[:1])


def copy_tree(tmp):
    tree = os.path.join(tmp, "host")
    shutil.copytree(FIXTURE, tree, symlinks=True)
    with open(os.path.join(tree, "nova.conf"), "a") as f:
        f.write("\n[oslo_messaging_rabbit]\nrabbit_password = RabbitSecret\n")
    return tree


def run_as_root_cases(c, exporter, tree):
    with h.Exporter(exporter, exporter_flags(tree)) as ex:
        ex.wait_for(lambda s: all(success(s).get(k) == 1 for k in COLLECTORS), timeout=20)
        for case in KERNEL_CASES:
            check_kernel_case(c, ex, tree, case)
        check_nova_case(c, ex, tree, "as a FIFO", "fifo")
        check_nova_case(c, ex, tree, "linked to /dev/zero", "zero")
        start = time.monotonic()
    took = time.monotonic() - start
    c.check(ex.proc.returncode == 0, "SIGTERM: exit status 0 (got %s)" % ex.proc.returncode)
    c.check(took < 6, "SIGTERM: stopped in %.1f s" % took)
    check_logged_once(c, ex.stderr, tree)


def run_unprivileged_case(c, exporter, tmp, tree):
    """chmod 000 only stops a user without CAP_DAC_OVERRIDE: run as nobody."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return "no 'nobody' user"
    if os.geteuid() != 0:
        return "not root: cannot run the exporter as another user"
    for d in (tmp, tree):
        os.chmod(d, 0o755)
    meminfo = os.path.join(tree, "proc", "meminfo")
    os.chmod(meminfo, 0)
    exe = os.path.join(tmp, "hostiso_exporter")
    shutil.copy(exporter, exe)
    os.chmod(exe, 0o755)
    wrapper = os.path.join(tmp, "as-nobody")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec setpriv --reuid=%d --regid=%d --clear-groups %s "$@"\n'
                % (nobody.pw_uid, nobody.pw_gid, exe))
    os.chmod(wrapper, 0o755)
    flags = exporter_flags(tree) + ["--no-collector.libvirt"]
    with h.Exporter(wrapper, flags) as ex:
        samples = ex.wait_for(lambda s: success(s).get("cpu") == 1, timeout=10)
        ok = success(samples or [])
        c.check(ok.get("memory") == 0, "meminfo mode 000 as nobody: memory success 0")
        c.check(ok.get("cpu") == 1, "meminfo mode 000 as nobody: cpu still succeeds")
    c.check("Permission denied" in ex.stderr and meminfo in ex.stderr,
            "meminfo mode 000: one log line names the file and the reason")
    return None


def check_sigterm_with_a_stuck_worker(c, exporter, tmp):
    """libvirt's client waits forever for an answer on a socket that accepts and
    never replies: the libvirt worker is stuck in a read. SIGTERM must still stop
    the exporter within its 5 s bound."""
    path = os.path.join(tmp, "silent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def accept_and_stay_silent():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept_and_stay_silent)
    t.start()
    try:
        flags = ["--collector.disable-defaults", "--collector.libvirt",
                 "--libvirt.uri=qemu+unix:///system?socket=%s" % path]
        with h.Exporter(exporter, flags) as ex:
            deadline = time.monotonic() + 10
            while not accepted and time.monotonic() < deadline:
                time.sleep(0.1)
            c.check(bool(accepted), "stuck worker: libvirt connected to the silent socket")
            start = time.monotonic()
        took = time.monotonic() - start
        c.check(took < 7, "stuck worker: SIGTERM stopped the exporter in %.1f s" % took)
        c.check(ex.proc.returncode == 0, "stuck worker: exit status 0 (got %s)"
                % ex.proc.returncode)
    finally:
        stop.set()
        t.join()
        for conn in accepted:
            conn.close()
        server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    c = h.Checker()
    skipped = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = copy_tree(tmp)
        run_as_root_cases(c, args.exporter, tree)
        check_sigterm_with_a_stuck_worker(c, args.exporter, tmp)
        why = run_unprivileged_case(c, args.exporter, tmp, tree)
        if why:
            skipped.append("chmod 000 case: " + why)
    return c.finish(skipped)


if __name__ == "__main__":
    sys.exit(main())
