#!/usr/bin/env python3
"""Live test of the thread census on this machine (needs CPUs 0 and 1).

The exporter runs with --isolation.guest-cpus=1 --census.interval=1 on
127.0.0.1. A busy process pinned to guest CPU 1 (named hostiso-busy1: comm is
the executable's name, so it is a copy of bash) must appear in
hostiso_intrusion_seconds_total{cpu="1",comm="hostiso-busy1"} growing about
1 s per second and in hostiso_violation_info{kind="host_task_on_guest_cpu"};
a busy process pinned to host CPU 0 (hostiso-busy0) must not. Every thread of
the exporter must be confined to CPU 0 and the census thread must run at
SCHED_IDLE.
"""
import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from exporter_harness import parse, stop_process  # noqa: E402  (the shared exposition parser)

SKIP = 77
SCHED_IDLE = 5


def value(samples, name, **labels):
    for n, l, v in samples:
        if n == name and all(l.get(k) == w for k, w in labels.items()):
            return v
    return None


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def task_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def thread_facts(pid):
    """(tid, comm, Cpus_allowed_list, policy) of every thread of pid."""
    facts = []
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "status") as f:
                status = f.read()
            with open(base + "stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        allowed = re.search(r"^Cpus_allowed_list:\s*(\S+)", status, re.M).group(1)
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        policy = int(stat.rsplit(")", 1)[1].split()[38])  # field 41
        facts.append((int(tid), comm, allowed, policy))
    return facts


def pin_and_nice(cpu, nice):
    os.sched_setaffinity(0, {cpu})
    try:
        os.nice(nice)
    except PermissionError:  # negative nice needs root; the test still works without
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    if not {0, 1} <= os.sched_getaffinity(0):
        print("SKIP: needs CPUs 0 and 1 (have %s)" % sorted(os.sched_getaffinity(0)))
        return SKIP
    if not os.access(args.exporter, os.X_OK):
        print("FAIL: no exporter binary at %s" % args.exporter)
        return 1

    tmp = tempfile.mkdtemp(prefix="hostiso-census-live.")
    procs = []
    failures = []

    def check(cond, msg):
        print(("ok   " if cond else "FAIL ") + msg)
        if not cond:
            failures.append(msg)

    try:
        busy = {}
        for cpu in (0, 1):
            exe = os.path.join(tmp, "hostiso-busy%d" % cpu)
            shutil.copy("/bin/bash", exe)
            # The CPU 0 hog runs at nice 19: at full weight it would starve the
            # exporter's SCHED_IDLE census thread on CPU 0 (by design, the census
            # yields to any host work), and this test is about attribution. The
            # CPU 1 hog runs at nice -15 so that other work on this small machine
            # (builds) does not take half of CPU 1 away from it.
            p = subprocess.Popen([exe, "-c", "while :; do :; done"],
                                 preexec_fn=lambda c=cpu: pin_and_nice(c, 19 if c == 0 else -15))
            procs.append(p)
            busy[cpu] = p
        port = free_port()
        exporter = subprocess.Popen(
            [args.exporter, "--web.listen-address=127.0.0.1:%d" % port,
             "--isolation.guest-cpus=1", "--census.interval=1", "--no-collector.libvirt"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "exporter.log"), "w"))
        procs.append(exporter)

        def scrape():
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
                return time.monotonic(), parse(r.read().decode())

        # Wait for a census that saw hostiso-busy1 intrude (the first one is a
        # baseline, so this takes two censuses).
        deadline = time.monotonic() + 20
        first = None
        while time.monotonic() < deadline:
            if exporter.poll() is not None:
                raise RuntimeError("exporter exited with %d" % exporter.returncode)
            try:
                t, s = scrape()
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
                continue
            if value(s, "hostiso_intrusion_seconds_total", cpu="1", comm="hostiso-busy1"):
                first = (t, s)
                break
            time.sleep(0.2)
        check(first is not None, "hostiso-busy1 appears in hostiso_intrusion_seconds_total{cpu=\"1\"}")
        if first is None:
            return 1
        busy0_ticks = task_ticks(busy[0].pid)
        hz = os.sysconf("SC_CLK_TCK")
        t_own1, busy1_ticks = time.monotonic(), task_ticks(busy[1].pid)
        time.sleep(5)
        second = scrape()
        t_own2, busy1_ticks2 = time.monotonic(), task_ticks(busy[1].pid)
        own_rate = (busy1_ticks2 - busy1_ticks) / hz / (t_own2 - t_own1)

        def census_point(sample):
            t, s = sample
            age = value(s, "hostiso_census_age_seconds")
            return t - age, value(s, "hostiso_intrusion_seconds_total", cpu="1",
                                  comm="hostiso-busy1")

        (c1, v1), (c2, v2) = census_point(first), census_point(second)
        rate = (v2 - v1) / (c2 - c1) if c2 > c1 else 0.0
        if own_rate >= 0.5:
            check(0.5 <= rate <= 1.2,
                  "hostiso-busy1 intrusion grows %.2f s/s over %.1f s of census time "
                  "(expected 0.5..1.2; its own CPU use from /proc: %.2f s/s)"
                  % (rate, c2 - c1, own_rate))
        else:
            # Other work on this machine takes CPU 1 from the hog: "about 1 s/s"
            # cannot hold for anyone; the agreement check below still must.
            print("note: CPU 1 is busy with other work: hostiso-busy1 itself got only "
                  "%.2f s/s, so the 0.5..1.2 s/s check is replaced by the agreement check"
                  % own_rate)
            check(0 < rate <= 1.2, "hostiso-busy1 intrusion grows %.2f s/s (> 0, <= 1.2)" % rate)
        # Windows differ by up to one census interval out of ~5 s.
        check(abs(rate - own_rate) <= 0.25,
              "intrusion rate %.2f matches hostiso-busy1's own CPU use %.2f s/s within 0.25"
              % (rate, own_rate))
        s = second[1]
        info = [l for n, l, v in s if n == "hostiso_violation_info"
                and l.get("kind") == "host_task_on_guest_cpu"]
        subjects = {l["subject"]: l["cpus"] for l in info}
        check(subjects.get("comm hostiso-busy1") == "1",
              "violation_info host_task_on_guest_cpu 'comm hostiso-busy1' cpus=1 (have %s)"
              % sorted(subjects.items()))
        check("comm hostiso-busy0" not in subjects, "no violation for hostiso-busy0 (on CPU 0)")
        busy0_series = [l for n, l, v in s if n == "hostiso_intrusion_seconds_total"
                        and l.get("comm") == "hostiso-busy0"]
        check(not busy0_series, "no intrusion series for hostiso-busy0")
        check(task_ticks(busy[0].pid) > busy0_ticks, "hostiso-busy0 was really running")
        exposure = value(s, "hostiso_host_tasks_on_guest_cpus")
        check(exposure is not None and exposure >= 1,
              "hostiso_host_tasks_on_guest_cpus >= 1 (%s)" % exposure)
        tasks = value(s, "hostiso_census_tasks")
        check(tasks is not None and tasks > 10, "hostiso_census_tasks %s" % tasks)
        age = value(s, "hostiso_census_age_seconds")
        check(age is not None and age < 3, "hostiso_census_age_seconds %s < 3" % age)
        check(value(s, "hostiso_collector_success", collector="census") == 1,
              "collector census succeeds")
        check(value(s, "hostiso_collector_success", collector="interrupts") == 1,
              "collector interrupts succeeds")
        check(value(s, "hostiso_cpu_device_interrupts_total", cpu="0") is not None,
              "hostiso_cpu_device_interrupts_total{cpu=\"0\"} present")
        check(value(s, "hostiso_violating_subjects", kind="irq_on_guest_cpu") is not None,
              "hostiso_violating_subjects{kind=\"irq_on_guest_cpu\"} present (%s now)"
              % value(s, "hostiso_violating_subjects", kind="irq_on_guest_cpu"))

        facts = thread_facts(exporter.pid)
        print("exporter threads: %s" % ", ".join("%d %s cpus=%s policy=%d" % f for f in facts))
        check(len(facts) >= 2 and all(f[2] == "0" for f in facts),
              "all %d exporter threads have Cpus_allowed_list 0" % len(facts))
        check(any(f[3] == SCHED_IDLE for f in facts), "one exporter thread (the census) runs SCHED_IDLE")
    finally:
        for p in reversed(procs):
            stop_process(p)
        log = os.path.join(tmp, "exporter.log")
        if failures and os.path.exists(log):
            print("exporter log:\n" + open(log).read())
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("FAILED: %d check(s)" % len(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
