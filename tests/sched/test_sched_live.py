#!/usr/bin/env python3
"""Live test of the sched collector (issue 14) with a real libvirtd and real guests.

Root only (loads BPF, starts libvirtd through tests/soak's Libvirtd helper: its own
users, groups, dirs, unix sockets only; every guest and daemon it started is stopped at
the end). Two 1-vCPU guests whose disk spins vCPU 0 (KVM when /dev/kvm exists, else
TCG) are pinned to CPU 1 with a host busy loop; their emulator threads sit on CPU 0.

Checked over one window between two scrapes:
- hostiso_cpu_held_seconds_total{cpu="1",holder="vcpu"} grew by the two vCPU threads'
  run time from /proc/PID/task/TID/schedstat, within 2 %;
- each vCPU's hostiso_vcpu_{time,delay}_seconds_total (served from the sched collector's
  task iterator, which the exporter's log confirms) grew exactly as its schedstat did,
  between the file reads just before and just after the two scrapes;
- each domain's wait attributed to other_guest and host splits in the proportion of the
  other vCPU's run time to the busy loop's run time (both from schedstat), within 5 %;
Then the busy loop stops and 1,000 short processes (5 ms of CPU each, one comm) run on
CPU 1 between two censuses: hostiso_sched_intrusion_seconds_total for their comm grows
by their own CPU time (wait4 rusage) within 5 %; what the census saw is printed.

Usage: test_sched_live.py --exporter BIN --burner BIN. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from exporter_harness import SKIP, Checker, Exporter, parse, select, value  # noqa: E402
from libvirt_harness import Libvirtd, guest_xml, virsh, write_spin_disk  # noqa: E402
from sched_preflight import why_sched_cannot_load  # noqa: E402

GUEST_CPU = 1
PREFIX = "hostiso-sched-"
GUESTS = [PREFIX + "a", PREFIX + "b"]
BURNERS = 1000
BURN_US = 5000
# Long enough for the burst of BURNERS processes to fit between two censuses
# also in the sanitizer build: they share CPU 1 with two spinning vCPUs and a
# busy loop (52 s there with 45 s, 10-20 s in the Release build).
CENSUS_INTERVAL = 100


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


class Guests:
    """The two spinning guests; destroyed in stop() before the daemon goes."""

    def __init__(self, libvirtd, work):
        self.libvirtd, self.work, self.started = libvirtd, work, []

    def start(self):
        for i, name in enumerate(GUESTS):
            disk = os.path.join(self.work, "spin%d.img" % i)
            write_spin_disk(disk)
            path = os.path.join(self.work, name + ".xml")
            with open(path, "w") as f:
                f.write(guest_xml(name, self.libvirtd.virt, disk, GUEST_CPU, emulator_cpu=0))
            ok, out = virsh("create", path)
            if not ok:
                return "virsh create %s: %s" % (name, out)
            self.started.append(name)
        return None

    def stop(self):
        for name in self.started:
            virsh("destroy", name, timeout=30)


def vcpu_tid(name):
    """The host thread id of vCPU 0 of a guest, from its QEMU's thread names."""
    out = subprocess.run(["pgrep", "-f", "guest=%s," % name], capture_output=True, text=True)
    for pid in out.stdout.split():
        task = "/proc/%s/task" % pid
        for tid in os.listdir(task):
            with open("%s/%s/comm" % (task, tid)) as f:
                if f.read().strip() in ("CPU 0/KVM", "CPU 0/TCG"):
                    return int(tid)
    return None


def schedstat(tid):
    """(run ns, wait ns) of a thread."""
    with open("/proc/%d/task/%d/schedstat" % (tid, tid)) as f:
        run, wait, _ = f.read().split()
    return int(run), int(wait)


def snapshot(exporter, tids):
    """One scrape and the schedstat of `tids`, taken back to back, and when."""
    before = {k: schedstat(t) for k, t in tids.items()}
    t0 = time.monotonic()
    samples = parse(exporter.metrics())
    t1 = time.monotonic()
    after = {k: schedstat(t) for k, t in tids.items()}
    mid = {k: tuple((a + b) // 2 for a, b in zip(before[k], after[k])) for k in tids}
    mid["when"] = (t0 + t1) / 2
    mid["bounds"] = (before, after)
    return samples, mid


def one(samples, name, **labels):
    """The value of the one sample of `name` with `labels`, or None."""
    found = select(samples, name, **labels)
    return found[0][2] if len(found) == 1 else None


def grown(s1, s2, name, **labels):
    v1, v2 = one(s1, name, **labels), one(s2, name, **labels)
    if v1 is None or v2 is None:
        return None
    return v2 - v1


def check_vcpu_time(c, s1, s2, st1, st2):
    held = grown(s1, s2, "hostiso_cpu_held_seconds_total", cpu=str(GUEST_CPU), holder="vcpu")
    run = sum(st2[g][0] - st1[g][0] for g in GUESTS) / 1e9
    print("CPU %d vcpu held %.4f s; vCPU threads' schedstat run %.4f s" % (GUEST_CPU, held, run))
    c.check(held is not None and run > 1 and abs(held - run) <= 0.02 * run,
            "per-CPU vcpu time matches the vCPU threads' schedstat within 2 %")


def check_vcpu_counters(c, s1, s2, st1, st2):
    """The per-vCPU counters served from the task iterator (the log says it is in use) grow
    as the threads' own schedstat: between what the files said just outside the scrapes."""
    (before1, after1), (before2, after2) = st1["bounds"], st2["bounds"]
    for g in GUESTS:
        for i, name in ((0, "hostiso_vcpu_time_seconds_total"),
                        (1, "hostiso_vcpu_delay_seconds_total")):
            got = grown(s1, s2, name, domain=g, vcpu="0")
            low = (before2[g][i] - after1[g][i]) / 1e9 - 1e-6
            high = (after2[g][i] - before1[g][i]) / 1e9 + 1e-6
            print("%s %s grew %s s; schedstat says %.6f..%.6f s" % (g, name, got, low, high))
            c.check(got is not None and low <= got <= high,
                    "%s: %s grows exactly as its schedstat" % (g, name))


def check_attribution(c, s1, s2, st1, st2):
    """Both vCPUs want CPU 1 nearly always, so while one waits, CPU 1 runs the other
    vCPU (other_guest: its schedstat run time, less what it ran while this one slept)
    or host tasks (host: the window minus both vCPUs' run time; the busy loop and
    whatever else of the host ran there)."""
    window = st2["when"] - st1["when"]
    busy = (st2["busy"][0] - st1["busy"][0]) / 1e9
    for me, other in ((GUESTS[0], GUESTS[1]), (GUESTS[1], GUESTS[0])):
        my_run = (st2[me][0] - st1[me][0]) / 1e9
        other_run = (st2[other][0] - st1[other][0]) / 1e9
        host = window - my_run - other_run
        wait = (st2[me][1] - st1[me][1]) / 1e9
        parts = {h: grown(s1, s2, "hostiso_domain_wait_attributed_seconds_total", domain=me,
                          holder=h)
                 for h in ("host", "other_guest", "own_emulator", "own_vcpu", "kernel")}
        print("%s over %.3f s: ran %.4f s, schedstat wait %.4f s, attributed %s; other vCPU "
              "ran %.4f s; host (window - both vCPUs) %.4f s, of it the busy loop %.4f s"
              % (me, window, my_run, wait, {k: round(v or 0, 4) for k, v in parts.items()},
                 other_run, host, busy))
        if None in parts.values():
            c.check(False, "%s: attribution series present" % me)
            continue
        expected = other_run / (other_run + host)
        seen = parts["other_guest"] / max(parts["other_guest"] + parts["host"], 1e-9)
        print("  other_guest share of other_guest+host: attributed %.4f, from schedstat %.4f"
              % (seen, expected))
        c.check(abs(seen - expected) <= 0.05 * expected,
                "%s: wait splits other_guest/host as schedstat says, within 5 %%" % me)
        # While this vCPU sleeps (a halted guest: the window minus its run and wait
        # time) the other one may run without this one waiting: that part is in
        # nobody's wait. Seen once in CI: 0.188 s asleep, other_guest 0.185 s short.
        asleep = max(0.0, window - my_run - wait)
        print("  asleep %.4f s: other_guest expected between %.4f and %.4f s"
              % (asleep, other_run - asleep, other_run))
        c.check((other_run - asleep) * 0.95 <= parts["other_guest"] <= other_run * 1.05,
                "%s: other_guest = the other vCPU's run time while this one was not "
                "asleep, within 5 %%" % me)
        total = sum(parts.values())
        c.check(abs(total - wait) <= 0.05 * wait,
                "%s: attributed wait adds up to the schedstat wait within 5 %%" % me)


def wait_for_fresh_census(exporter, max_age=3.0, timeout=CENSUS_INTERVAL + 15):
    """Waits until a census just finished; returns its samples or None."""
    return exporter.wait_for(
        lambda s: (value(s, "hostiso_census_age_seconds") or 1e9) < max_age, timeout=timeout)


def check_intrusion(c, exporter, burner):
    comm = "hostiso-burner"
    s1 = wait_for_fresh_census(exporter)
    if s1 is None:
        c.check(False, "a census ran within its interval")
        return
    census_t0 = time.monotonic() - value(s1, "hostiso_census_age_seconds")
    out = subprocess.run(["taskset", "-c", "0", burner, str(BURNERS), str(GUEST_CPU),
                          str(BURN_US)], capture_output=True, text=True, check=True)
    own = int(out.stdout.strip()) / 1e9
    took = time.monotonic() - census_t0
    s2 = parse(exporter.metrics())
    census_between = took < CENSUS_INTERVAL
    s3 = wait_for_fresh_census(exporter)
    after = one(s2, "hostiso_sched_intrusion_seconds_total", cpu=str(GUEST_CPU), comm=comm)
    sched = None if after is None else after - (
        one(s1, "hostiso_sched_intrusion_seconds_total", cpu=str(GUEST_CPU), comm=comm) or 0)
    ours = one(s3 or s2, "hostiso_intrusion_seconds_total", cpu=str(GUEST_CPU), comm=comm)
    census = (ours or 0) - (one(s1, "hostiso_intrusion_seconds_total", cpu=str(GUEST_CPU),
                                comm=comm) or 0)
    print("%d processes of %d us: own CPU time (rusage) %.4f s; sched intrusion[%s] %.4f s; "
          "census intrusion[%s] grew %.4f s over the same two censuses (missed %.4f s); "
          "burst ended %.1f s after the first census"
          % (BURNERS, BURN_US, own, comm, sched or 0, comm, census, own - census, took))
    c.check(census_between, "the burst ran between two censuses")
    c.check(sched is not None and abs(sched - own) <= 0.05 * own,
            "sched intrusion counts the short processes within 5 % of their own CPU time")


class Scene:
    """The live setup both sched tests measure: a private libvirtd, the two spinning
    guests pinned to GUEST_CPU, and a host busy loop pinned there. `why` is None when it
    all started, else the reason; everything started is stopped on exit."""

    def __init__(self, work):
        self.libvirtd = Libvirtd(work, GUESTS, PREFIX)
        self.guests = Guests(self.libvirtd, work)
        self.busy = None
        self.why = None

    def __enter__(self):
        try:
            self.why = self.libvirtd.start() or self.guests.start()
            if not self.why:
                self.busy = subprocess.Popen(["taskset", "-c", str(GUEST_CPU), "sh", "-c",
                                              "while :; do :; done"])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def stop_busy(self):
        if self.busy:
            self.busy.kill()
            self.busy.wait()
            self.busy = None

    def __exit__(self, *exc):
        self.stop_busy()
        self.guests.stop()
        self.libvirtd.stop()
        return False


def run(args, work, c):
    with Scene(work) as scene:
        if scene.why:
            c.check(False, scene.why)
            return
        flags = ["--isolation.guest-cpus=%d" % GUEST_CPU, "--libvirt.uri=qemu:///system",
                 "--libvirt.refresh-interval=2", "--census.interval=%d" % CENSUS_INTERVAL,
                 # a busy shared machine runs many names on CPU 1: keep ours ranked
                 "--census.top-comms=1000",
                 "--nova.config=" + os.path.join(work, "missing-nova.conf")]
        with Exporter(args.exporter, flags) as exporter:
            measure(c, exporter, scene.busy, args)
            scene.stop_busy()
            check_intrusion(c, exporter, args.burner)
        print("exporter log lines about sched:\n" + "\n".join(
            ln for ln in exporter.stderr.splitlines() if "sched:" in ln or "sched f" in ln))
        c.check("from the task iterator" in exporter.stderr,
                "vCPU counters came from the sched collector's task iterator")


def measure(c, exporter, busy, args):
    tids = {g: vcpu_tid(g) for g in GUESTS}
    if None in tids.values():
        c.check(False, "vCPU threads found: %s" % tids)
        return
    tids["busy"] = busy.pid
    ready = exporter.wait_for(lambda s: all(
        one(s, "hostiso_domain_wait_attributed_seconds_total", domain=g, holder="host")
        for g in GUESTS) and one(s, "hostiso_collector_success", collector="sched") == 1,
        timeout=30)
    if ready is None:
        s = parse(exporter.metrics())
        c.check(False, "sched collector up with both domains (success=%s)"
                % value(s, "hostiso_collector_success", collector="sched"))
        return
    time.sleep(2)  # both domains in the maps for a while
    s1, st1 = snapshot(exporter, tids)
    time.sleep(args.window)
    s2, st2 = snapshot(exporter, tids)
    check_vcpu_time(c, s1, s2, st1, st2)
    check_vcpu_counters(c, s1, s2, st1, st2)
    check_attribution(c, s1, s2, st1, st2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--exporter", required=True)
    p.add_argument("--burner", required=True)
    p.add_argument("--window", type=float, default=10.0)
    return run_live(p.parse_args(), run, "loads BPF, starts libvirtd")


def run_live(args, body, root_for, why_not=lambda: None):
    """Runs body(args, work, checker) in a scratch directory and returns the checker's exit
    code; exits 77 with the reason when this machine cannot run a live sched test (not
    root, one CPU, no libvirtd or guests, the collector cannot load, or `why_not()`)."""
    if os.geteuid() != 0:
        skip("needs root (%s)" % root_for)
    if GUEST_CPU >= os.cpu_count():
        skip("needs at least 2 CPUs")
    why = (why_not() or Libvirtd("/nonexistent", GUESTS, PREFIX).why_not()
           or why_sched_cannot_load(args.exporter))
    if why:
        skip(why)
    c = Checker()
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="hostiso-sched-") as work:
        os.chmod(work, 0o755)  # QEMU (libvirt-qemu) opens the disks in here
        body(args, work, c)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
