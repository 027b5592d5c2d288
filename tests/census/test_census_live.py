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
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from exporter_harness import free_port, parse, stop_process  # noqa: E402

SKIP = 77
SCHED_IDLE = 5


def value(samples, name, **labels):
    """The first sample's value of `name` with `labels`, None when there is none."""
    for n, sample_labels, v in samples:
        if n == name and all(sample_labels.get(k) == w for k, w in labels.items()):
            return v
    return None


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


class Checks:
    """Prints one line per check; remembers the failed ones."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, msg):
        print(("ok   " if cond else "FAIL ") + msg)
        if not cond:
            self.failures.append(msg)


def start_busy_processes(tmp):
    """{cpu: Popen} of a busy loop pinned to CPU 0 (hostiso-busy0) and CPU 1 (hostiso-busy1)."""
    busy = {}
    for cpu in (0, 1):
        exe = os.path.join(tmp, "hostiso-busy%d" % cpu)
        shutil.copy("/bin/bash", exe)
        # The CPU 0 hog runs at nice 19: at full weight it would starve the
        # exporter's SCHED_IDLE census thread on CPU 0 (by design, the census
        # yields to any host work), and this test is about attribution. The
        # CPU 1 hog runs at nice -15 so that other work on this small machine
        # (builds) does not take half of CPU 1 away from it.
        busy[cpu] = subprocess.Popen(
            [exe, "-c", "while :; do :; done"],
            preexec_fn=lambda c=cpu: pin_and_nice(c, 19 if c == 0 else -15))
    return busy


def first_census_with_intrusion(exporter, scrape):
    """(time, samples) of the first scrape whose census saw hostiso-busy1 intrude (the
    first census is a baseline, so this takes two), None after 20 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if exporter.poll() is not None:
            raise RuntimeError("exporter exited with %d" % exporter.returncode)
        try:
            t, s = scrape()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
            continue
        if value(s, "hostiso_intrusion_seconds_total", cpu="1", comm="hostiso-busy1"):
            return t, s
        time.sleep(0.2)
    return None


def census_point(sample):
    """(time of the census, hostiso-busy1's intrusion seconds) of a (time, samples) scrape."""
    t, s = sample
    age = value(s, "hostiso_census_age_seconds")
    return t - age, value(s, "hostiso_intrusion_seconds_total", cpu="1", comm="hostiso-busy1")


def check_intrusion_rate(check, first, second, own_rate):
    """hostiso-busy1's intrusion grows about 1 s/s, as its own CPU use from /proc does."""
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


def check_attribution(check, s):
    """A violation and intrusion series for hostiso-busy1 (CPU 1), none for hostiso-busy0."""
    info = [labels for n, labels, v in s if n == "hostiso_violation_info"
            and labels.get("kind") == "host_task_on_guest_cpu"]
    subjects = {labels["subject"]: labels["cpus"] for labels in info}
    check(subjects.get("comm hostiso-busy1") == "1",
          "violation_info host_task_on_guest_cpu 'comm hostiso-busy1' cpus=1 (have %s)"
          % sorted(subjects.items()))
    check("comm hostiso-busy0" not in subjects, "no violation for hostiso-busy0 (on CPU 0)")
    busy0_series = [labels for n, labels, v in s if n == "hostiso_intrusion_seconds_total"
                    and labels.get("comm") == "hostiso-busy0"]
    check(not busy0_series, "no intrusion series for hostiso-busy0")


def check_census_series(check, s):
    """The census and interrupts collectors' own series."""
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


def check_exporter_threads(check, pid):
    """Every exporter thread confined to CPU 0; the census thread at SCHED_IDLE."""
    facts = thread_facts(pid)
    print("exporter threads: %s" % ", ".join("%d %s cpus=%s policy=%d" % f for f in facts))
    check(len(facts) >= 2 and all(f[2] == "0" for f in facts),
          "all %d exporter threads have Cpus_allowed_list 0" % len(facts))
    check(any(f[3] == SCHED_IDLE for f in facts),
          "one exporter thread (the census) runs SCHED_IDLE")


def run_checks(check, exporter_path, tmp, procs):
    busy = start_busy_processes(tmp)
    procs.extend(busy.values())
    port = free_port()
    exporter = subprocess.Popen(
        [exporter_path, "--web.listen-address=127.0.0.1:%d" % port,
         "--isolation.guest-cpus=1", "--census.interval=1", "--no-collector.libvirt"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "exporter.log"), "w"))
    procs.append(exporter)

    def scrape():
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            return time.monotonic(), parse(r.read().decode())

    first = first_census_with_intrusion(exporter, scrape)
    check(first is not None,
          "hostiso-busy1 appears in hostiso_intrusion_seconds_total{cpu=\"1\"}")
    if first is None:
        return
    busy0_ticks = task_ticks(busy[0].pid)
    hz = os.sysconf("SC_CLK_TCK")
    t_own1, busy1_ticks = time.monotonic(), task_ticks(busy[1].pid)
    time.sleep(5)
    second = scrape()
    t_own2, busy1_ticks2 = time.monotonic(), task_ticks(busy[1].pid)
    own_rate = (busy1_ticks2 - busy1_ticks) / hz / (t_own2 - t_own1)
    check_intrusion_rate(check, first, second, own_rate)
    check_attribution(check, second[1])
    check(task_ticks(busy[0].pid) > busy0_ticks, "hostiso-busy0 was really running")
    check_census_series(check, second[1])
    check_exporter_threads(check, exporter.pid)


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
    check = Checks()
    try:
        run_checks(check, args.exporter, tmp, procs)
    finally:
        for p in reversed(procs):
            stop_process(p)
        log = os.path.join(tmp, "exporter.log")
        if check.failures and os.path.exists(log):
            print("exporter log:\n" + open(log).read())
        shutil.rmtree(tmp, ignore_errors=True)
    if check.failures:
        print("FAILED: %d check(s)" % len(check.failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
