#!/usr/bin/env python3
"""The shape of a scrape and of the configuration's path (issue 10).

1. One scrape opens each file at most once: strace follows the exporter's
   threads during one scrape of the guest_host fixture with every collector
   on, and no path is opened twice by the thread that served it.
2. nova.conf is followed without any scrape: the test edits it, waits, and
   sees the exporter's own CPU affinity move to the new host CPUs, then the
   first scrape after the edit already serves a census taken with the new
   roles (a scrape never runs the census).
3. Where sysfs has neither cpu/present nor cpu/online (the CPU list then comes
   from /proc/stat), one scrape still reads /proc/stat once: the isolation
   refresh and the cpu collector share the read.
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import exporter_harness as h  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "guest_host")
# strace -y prints a descriptor with its path: openat(5</proc/4001/task>, "4002/stat", ...)
OPEN_RE = re.compile(r'^(\d+)\s+(?:openat\((?:AT_FDCWD(?:<[^>]*>)?|\d+<([^>]*)>), |open\()'
                     r'"([^"]+)"')


def opens_during_one_scrape(ex, log):
    """(tid -> [paths]) opened while strace followed the exporter for one scrape."""
    tracer = subprocess.Popen(["strace", "-f", "-y", "-qq", "-e", "trace=open,openat", "-o", log,
                               "-p", str(ex.proc.pid)], stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # strace attaches to every thread
    ex.metrics()
    time.sleep(0.3)
    tracer.terminate()
    tracer.wait(10)
    by_tid = collections.defaultdict(list)
    with open(log) as f:
        for line in f:
            m = OPEN_RE.match(line)
            if m:
                path = m.group(3)
                if m.group(2) and not path.startswith("/"):
                    path = os.path.join(m.group(2), path)
                by_tid[m.group(1)].append(path)
    return by_tid


def check_each_file_once(c, exporter, tree, tmp):
    if shutil.which("strace") is None:
        return "strace is not installed"
    extra = ["--census.interval=3600", "--runtime.confine-to-host-cpus=false"]
    with h.Exporter(exporter, h.fixture_flags(tree, extra)) as ex:
        ex.wait_for(lambda s: h.select(s, "hostiso_census_tasks")
                    and [x[2] for x in h.select(s, "hostiso_libvirt_up")] == [1], timeout=20)
        by_tid = opens_during_one_scrape(ex, os.path.join(tmp, "strace.log"))
    stat = os.path.join(tree, "proc", "stat")
    scrape = [paths for paths in by_tid.values() if stat in paths]
    c.check(len(scrape) == 1, "one thread served the scrape (%d found)" % len(scrape))
    if len(scrape) != 1:
        return None
    counts = collections.Counter(scrape[0])
    twice = {p: n for p, n in counts.items() if n > 1}
    c.check(not twice, "no path opened twice in one scrape: %s" % twice)
    for rel in ("proc/stat", "proc/meminfo", "proc/interrupts", "proc/4001/statm",
                "proc/4001/task/4002/schedstat", "proc/4101/task/4102/schedstat"):
        c.check(counts.get(os.path.join(tree, rel)) == 1, "%s read once in the scrape" % rel)
    c.check(sum(counts.values()) > 20, "the scrape opened %d files" % sum(counts.values()))
    return None


def check_proc_stat_once_without_sysfs_cpu_lists(c, exporter, tmp):
    if shutil.which("strace") is None:
        return "strace is not installed"
    tree = os.path.join(tmp, "no_cpu_lists")
    shutil.copytree(FIXTURE, tree, symlinks=True)
    for name in ("present", "online"):
        os.remove(os.path.join(tree, "sys", "devices", "system", "cpu", name))
    # No nova.conf re-check during the traced scrape: only the scrape reads.
    extra = ["--census.interval=3600", "--isolation.refresh-interval=3600",
             "--runtime.confine-to-host-cpus=false"]
    with h.Exporter(exporter, h.fixture_flags(tree, extra)) as ex:
        samples = ex.wait_for(lambda s: h.select(s, "hostiso_cpu_seconds_total"), timeout=20)
        c.check(samples is not None, "fallback: the cpu collector serves /proc/stat")
        c.check(h.select(samples or [], "hostiso_config_info", cpus_source="proc_stat"),
                "fallback: the CPU list came from /proc/stat")
        by_tid = opens_during_one_scrape(ex, os.path.join(tmp, "strace_fallback.log"))
    stat = os.path.join(tree, "proc", "stat")
    reads = sum(paths.count(stat) for paths in by_tid.values())
    c.check(reads == 1, "fallback: /proc/stat opened once in one scrape (%d)" % reads)
    return None


def allowed_cpus(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    return ""


def host_tasks(samples):
    return [s[2] for s in h.select(samples, "hostiso_host_tasks_on_guest_cpus")]


def check_config_followed_without_scrapes(c, exporter, tree):
    if os.cpu_count() < 2:
        return "needs 2 CPUs to move the exporter's own affinity"
    nova = os.path.join(tree, "nova.conf")
    extra = ["--census.interval=2", "--isolation.refresh-interval=1"]
    with h.Exporter(exporter, h.fixture_flags(tree, extra)) as ex:
        first = ex.wait_for(lambda s: host_tasks(s) == [1], timeout=15)
        c.check(first is not None, "before: one host thread (ovs-vswitchd) on guest CPUs")
        c.check(allowed_cpus(ex.proc.pid) == "0", "before: the exporter confined to host CPU 0"
                " (got %s)" % allowed_cpus(ex.proc.pid))
        with open(nova) as f:
            text = f.read()
        with open(nova, "w") as f:
            f.write(text.replace("cpu_shared_set = 1-2", "cpu_shared_set = 0,2"))
        time.sleep(5)  # no scrape: the isolation worker (1 s) and census (2 s) act alone
        c.check(allowed_cpus(ex.proc.pid) == "1",
                "after: the exporter moved to the new host CPU 1 without a scrape (got %s)"
                % allowed_cpus(ex.proc.pid))
        after = h.parse(ex.metrics())
        c.check(host_tasks(after) == [2],
                "after: the first scrape serves a census with the new roles "
                "(sshd now on guest CPU 0): %s" % host_tasks(after))
        c.check(h.value(after, "hostiso_cpu_role", cpu="0", role="shared") == 1,
                "after: CPU 0 is shared")
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    c = h.Checker()
    skipped = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "host")
        shutil.copytree(FIXTURE, tree, symlinks=True)
        why = check_each_file_once(c, args.exporter, tree, tmp)
        if why:
            skipped.append("files opened once per scrape: " + why)
        why = check_config_followed_without_scrapes(c, args.exporter, tree)
        if why:
            skipped.append("configuration followed without scrapes: " + why)
        why = check_proc_stat_once_without_sysfs_cpu_lists(c, args.exporter, tmp)
        if why:
            skipped.append("/proc/stat once without sysfs CPU lists: " + why)
    return c.finish(skipped)


if __name__ == "__main__":
    sys.exit(main())
