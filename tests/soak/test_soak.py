#!/usr/bin/env python3
"""Soak test (issue 11): the exporter under process, thread and guest churn.

The exporter runs (as root when the test is) with every collector on,
--census.interval=1 and --isolation.guest-cpus=1 (CPU 0 host, CPU 1 guest),
and a nova.conf of the test's own. While it runs:

- a process-churn driver forks short processes (most live a few milliseconds,
  one in 25 spins 1.5-3 s so the census sees it intrude), two in three pinned
  to guest CPU 1, with odd names (invalid UTF-8, quote, backslash, newline,
  braces, empty, the reserved "kernel" and "other", and unique numbered names
  that exercise the census's cap on tracked names); one in ten execs
  /bin/true;
- a thread-churn driver starts and ends threads with the same names;
- when a private libvirtd can be started (root, no libvirt daemon already
  running, binaries present), tiny guests (1 MiB disk that spins, KVM when
  /dev/kvm exists, else TCG) are defined, started, destroyed and undefined in
  a loop; otherwise that part prints SKIPPED with the reason and the rest runs;
- /metrics is scraped every second, each answer read with the shared parser;
  a non-200, a timeout, invalid UTF-8 or a parse error is a failed scrape.

The exporter's RSS (VmRSS), open fds and threads are sampled after a warm-up
and at the end, after the churn stopped and the guests are gone. Asserted:
no failed scrape; the same thread count (CivetWeb's --web.max-connections
workers plus the exporter's own fixed threads, all created at start); fds
within --fd-bound; RSS growth below --rss-bound-kib.

Why the warm-up starts with 2 x --web.max-connections quick scrapes: CivetWeb
hands connections to its idle workers in turn, and a worker's first scrape
touches about 40 KiB (its stack and malloc state), so RSS climbs ~40 MiB over
the first 1,024 connections and is flat after; measuring before every worker
has served would report that as a leak. The warm-up (120 s) also
outlasts the filling of the bounded tables of ranked process names (the
census's and the sched collector's intrusion ledgers, 4,096 names each): the
churn makes a unique name every third process, 40 a second at the default
rate, so both are full before the baseline (with a 60 s warm-up they were
still filling during the measurement: +3 MiB with both collectors on). The RSS
bound (2 MiB) then covers malloc's settling after the warm-up (measured here
at 0.4-1 MiB over 1,000 scrapes); a leak of 100 bytes per process, 10 KiB per scrape or 50 KiB
per guest cycle exceeds it in the default 3-minute run.

Usage: test_soak.py --exporter PATH [--duration SECONDS] [--no-guests]
Exit: 0 pass, 1 fail, 77 skip (fewer than 2 CPUs, or no exporter binary).
"""
import argparse
import collections
import ctypes
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from exporter_harness import (SKIP, Exporter, ExpositionError, free_port, parse,  # noqa: E402
                              select, stop_process, value)
from libvirt_harness import Libvirtd, guest_xml, virsh, write_spin_disk  # noqa: E402

GUEST_CPU = 1
ALL_CPUS = {0, 1}
PR_SET_NAME = 15
LIBC = ctypes.CDLL(None, use_errno=True)
# Process names a hostile or careless host may hold (at most 15 bytes each).
ODD_NAMES = [b"\xff\xfe-soak", b'q"uote', b"back\\slash", b"new\nline", b"tab\t sp ace",
             b'{x="y"}', "\u00fcn\u00efc\u00f8d\u00e9".encode(), b"\xc3(bad", b"# HELP x",
             b"", b"kernel", b"other", b"x" * 15, b"soak-plain"]
GUEST_PREFIX = "hostiso-soak-"
GUEST_NAMES = [GUEST_PREFIX + "0", GUEST_PREFIX + "1", GUEST_PREFIX + "\u00fc 'q'"]


# ------------------------------------------------------------------ churn drivers
def set_thread_name(name):
    """prctl(PR_SET_NAME): the calling thread's comm (the process's for its main thread)."""
    LIBC.prctl(PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)


def churn_name(seq):
    """Every third name unique (soak-SEQ), the others from ODD_NAMES."""
    return b"soak-%d" % seq if seq % 3 == 0 else ODD_NAMES[seq % len(ODD_NAMES)]


def churn_lifetime(seq, rng):
    """1.5-3 s for one in 25 (alive across two censuses), else up to 5 ms."""
    return rng.uniform(1.5, 3.0) if seq % 25 == 0 else rng.uniform(0, 0.005)


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def process_child(seq, lifetime):
    """Runs in the forked child; never returns."""
    try:
        os.sched_setaffinity(0, {GUEST_CPU} if seq % 3 else ALL_CPUS)
        if seq % 10 == 7:
            os.execv("/bin/true", ["true"])
        set_thread_name(churn_name(seq))
        # Spinners at nice 19, so that the driver on the same CPU keeps its fork rate.
        os.nice(19)
        spin(lifetime)
    finally:
        os._exit(0)


def reap(alive):
    for pid in list(alive):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            alive.discard(pid)


def run_process_churn(seconds, rate, max_count, max_alive):
    """Forks up to max_count processes at `rate` per second for `seconds`."""
    os.sched_setaffinity(0, {GUEST_CPU})
    rng, alive, seq = random.Random(11), set(), 0
    start = time.monotonic()
    while time.monotonic() - start < seconds and seq < max_count:
        reap(alive)
        if len(alive) >= max_alive:
            time.sleep(0.002)
            continue
        lifetime = churn_lifetime(seq, rng)
        pid = os.fork()
        if pid == 0:
            process_child(seq, lifetime)
        alive.add(pid)
        seq += 1
        time.sleep(max(0.0, start + seq / rate - time.monotonic()))
    for pid in alive:
        os.waitpid(pid, 0)
    print(json.dumps({"processes": seq}), flush=True)


def thread_body(seq, lifetime):
    set_thread_name(churn_name(seq))
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # this thread only
    if seq % 4 == 0:
        os.sched_setaffinity(0, ALL_CPUS)  # pid 0: this thread only
    end = time.monotonic() + lifetime
    while time.monotonic() < end:  # half busy, half asleep: the GIL is shared
        spin(0.005)
        time.sleep(0.005)


def run_thread_churn(seconds, rate, max_count, max_alive):
    """Starts up to max_count threads at `rate` per second for `seconds`."""
    os.sched_setaffinity(0, {GUEST_CPU})
    rng, alive, seq = random.Random(12), [], 0
    start = time.monotonic()
    while time.monotonic() - start < seconds and seq < max_count:
        alive = [t for t in alive if t.is_alive()]
        if len(alive) >= max_alive:
            time.sleep(0.002)
            continue
        t = threading.Thread(target=thread_body, args=(seq, churn_lifetime(seq, rng)))
        t.start()
        alive.append(t)
        seq += 1
        time.sleep(max(0.0, start + seq / rate - time.monotonic()))
    for t in alive:
        t.join()
    print(json.dumps({"threads": seq}), flush=True)


class ChurnDriver:
    """This script run as a churn driver in its own session (so that everything it
    forked can be signalled by its process group)."""

    def __init__(self, role, seconds, rate, max_count, max_alive):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--role", role,
             "--churn-seconds", str(seconds), "--churn-rate", str(rate),
             "--churn-max", str(max_count), "--churn-max-alive", str(max_alive)],
            stdout=subprocess.PIPE, text=True, start_new_session=True)

    def result(self, timeout):
        """The driver's JSON summary, once it finished (None if it failed)."""
        try:
            out = self.proc.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        return json.loads(out) if self.proc.returncode == 0 and out.strip() else None

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class GuestChurn(threading.Thread):
    """Defines, starts, destroys and undefines guests in turn, one or two alive at once."""

    def __init__(self, libvirtd, work, hold_seconds=2.0):
        super().__init__(daemon=True)
        self.virt = libvirtd.virt
        self.work = work
        self.hold = hold_seconds
        self.stop_event = threading.Event()
        self.cycled = 0
        self.errors = []
        # One disk per guest: QEMU locks a writable image against a second guest.
        self.disks = {}
        for i, name in enumerate(GUEST_NAMES):
            self.disks[name] = os.path.join(work, "spin%d.img" % i)
            write_spin_disk(self.disks[name])

    def start_guest(self, name):
        path = os.path.join(self.work, "guest.xml")
        with open(path, "w") as f:
            f.write(guest_xml(name, self.virt, self.disks[name], GUEST_CPU))
        ok, out = virsh("define", path)
        if ok:
            ok, out = virsh("start", name)
            if not ok:
                virsh("undefine", name)
        if not ok:
            self.errors.append("virsh define/start %s: %s" % (name, out))
        return ok

    def remove_guest(self, name):
        for action in ("destroy", "undefine"):
            ok, out = virsh(action, name)
            if not ok:
                self.errors.append("virsh %s %s: %s" % (action, name, out))
                return
        self.cycled += 1

    def run(self):
        previous, i = None, 0
        while not self.stop_event.is_set() and len(self.errors) < 5:
            name = GUEST_NAMES[i % len(GUEST_NAMES)]
            i += 1
            started = self.start_guest(name)
            if previous:
                self.remove_guest(previous)
            previous = name if started else None
            self.stop_event.wait(self.hold)
        if previous:
            self.remove_guest(previous)


# ------------------------------------------------------------------ scraping and sampling
Footprint = collections.namedtuple("Footprint", "when rss_kib fds threads")


def footprint(pid):
    """The exporter's VmRSS (KiB), open fds and threads, from /proc/PID. fds: the fewest
    of ten looks 20 ms apart, since the census and libvirt threads hold a file or two
    open for a moment now and then; a leaked fd stays in every look."""
    fds = []
    for _ in range(10):
        fds.append(len(os.listdir("/proc/%d/fd" % pid)))
        time.sleep(0.02)
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return Footprint(time.monotonic(), rss, min(fds), len(os.listdir("/proc/%d/task" % pid)))


class Scraper(threading.Thread):
    """Scrapes /metrics every `interval` seconds; counts failures; samples the exporter's
    footprint after each scrape (so that no scrape connection of ours is open)."""

    def __init__(self, exporter, timeout, interval=1.0):
        super().__init__(daemon=True)
        self.url = "http://127.0.0.1:%d/metrics" % exporter.port
        self.pid = exporter.proc.pid
        self.timeout = timeout
        self.interval = interval
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.slowest = 0.0
        self.trace = []
        self.comms = set()       # comm labels of intrusion on the guest CPU
        self.domains = set()     # our guests seen in hostiso_domain_info
        self.unsuccessful = collections.Counter()  # collector -> scrapes with success 0
        self.last = None
        self.last_when = 0.0     # time of the last good scrape

    def fail(self, reason):
        with self.lock:
            self.failures.append(reason)
            if len(self.failures) <= 10:
                print("FAILED SCRAPE: %s" % reason, flush=True)

    def fetch(self):
        """The exposition text, or None after recording why not."""
        started = time.monotonic()
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, b""
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            self.fail("no answer within %.1f s: %s" % (self.timeout, e))
            return None
        self.slowest = max(self.slowest, time.monotonic() - started)
        if status != 200:
            self.fail("HTTP %d" % status)
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail("invalid UTF-8: %s" % e)
            return None

    def scrape(self):
        text = self.fetch()
        if text is None:
            return
        try:
            samples = parse(text)
        except ExpositionError as e:
            self.fail("parse error: %s" % e)
            return
        with self.lock:
            self.ok += 1
            self.last, self.last_when = samples, time.monotonic()
            for _, labels, _ in select(samples, "hostiso_intrusion_seconds_total",
                                       cpu=str(GUEST_CPU)):
                self.comms.add(labels["comm"])
            for _, labels, _ in select(samples, "hostiso_domain_info"):
                if labels["domain"].startswith(GUEST_PREFIX):
                    self.domains.add(labels["domain"])
            for _, labels, v in select(samples, "hostiso_collector_success"):
                if v != 1:
                    self.unsuccessful[labels["collector"]] += 1

    def sample(self):
        try:
            fp = footprint(self.pid)
        except OSError:  # the exporter is gone: the failed scrapes say so
            return
        with self.lock:
            self.trace.append(fp)

    def run(self):
        due = time.monotonic()
        while not self.stop_event.is_set():
            self.scrape()
            self.sample()
            due += self.interval
            self.stop_event.wait(max(0.0, due - time.monotonic()))

    def first_after(self, when):
        with self.lock:
            return next((fp for fp in self.trace if fp.when >= when), None)

    def wait_sample_after(self, when, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fp = self.first_after(when)
            if fp:
                return fp
            time.sleep(0.1)
        raise RuntimeError("no footprint sample within %d s" % timeout)


# ------------------------------------------------------------------ the test
def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--exporter", help="path to hostiso_exporter")
    p.add_argument("--duration", type=float, default=180,
                   help="seconds of churn measured after the warm-up (default 180)")
    p.add_argument("--warmup", type=float, default=120,
                   help="seconds of churn before the first sample (default 60)")
    p.add_argument("--workers", type=int, default=1024,
                   help="--web.max-connections given to the exporter (its default)")
    p.add_argument("--scrape-timeout", type=float, default=2.0)
    p.add_argument("--rss-bound-kib", type=int, default=2048)
    p.add_argument("--fd-bound", type=int, default=2)
    p.add_argument("--process-rate", type=float, default=120, help="processes per second")
    p.add_argument("--thread-rate", type=float, default=200, help="threads per second")
    p.add_argument("--max-processes", type=int, default=200000)
    p.add_argument("--max-threads", type=int, default=300000)
    p.add_argument("--no-guests", action="store_true", help="skip the guest churn")
    # Internal: this script as a churn driver.
    p.add_argument("--role", choices=("test", "processes", "threads"), default="test",
                   help=argparse.SUPPRESS)
    p.add_argument("--churn-seconds", type=float, help=argparse.SUPPRESS)
    p.add_argument("--churn-rate", type=float, help=argparse.SUPPRESS)
    p.add_argument("--churn-max", type=int, help=argparse.SUPPRESS)
    p.add_argument("--churn-max-alive", type=int, help=argparse.SUPPRESS)
    return p.parse_args()


def exporter_args(work):
    nova = os.path.join(work, "nova.conf")
    os.makedirs(os.path.join(work, "instances"))
    with open(nova, "w") as f:
        f.write("[DEFAULT]\ninstances_path = %s\nreserved_host_disk_mb = 1\n"
                % os.path.join(work, "instances"))
    return ["--isolation.guest-cpus=%d" % GUEST_CPU, "--census.interval=1",
            "--nova.config=" + nova, "--libvirt.uri=qemu:///system",
            "--libvirt.refresh-interval=30"] + os.environ.get("HOSTISO_SOAK_EXTRA", "").split()


def start_guests(args, work):
    """(Libvirtd, GuestChurn) running, or (Libvirtd or None, None) after printing SKIPPED."""
    if args.no_guests:
        print("SKIPPED: guest churn (--no-guests)", flush=True)
        return None, None
    libvirtd = Libvirtd(work, GUEST_NAMES, GUEST_PREFIX)
    reason = libvirtd.why_not()
    if reason is None:
        try:
            reason = libvirtd.start()
        except (subprocess.CalledProcessError, OSError) as e:
            reason = "could not start libvirtd: %s" % e
    if reason:
        print("SKIPPED: guest churn: %s" % reason, flush=True)
        return libvirtd, None
    print("libvirtd %d started (virt type %s)" % (libvirtd.pid, libvirtd.virt), flush=True)
    return libvirtd, GuestChurn(libvirtd, work)


def warm_up(args, scraper, seconds_total):
    """Every CivetWeb worker serves a scrape (2 x --workers quick scrapes, see the module
    docstring), then the churn runs on until `seconds_total` have passed."""
    start = time.monotonic()
    for _ in range(2 * args.workers):
        scraper.scrape()
    print("warm-up: %d quick scrapes in %.0f s (every worker has served)"
          % (2 * args.workers, time.monotonic() - start), flush=True)
    time.sleep(max(0.0, start + seconds_total - time.monotonic()))


def wait_guests_gone(scraper, timeout=45):
    """True once no guest of ours is in the exposition (lifecycle events or the 30 s
    refresh)."""
    since = time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        with scraper.lock:
            samples, when = scraper.last or [], scraper.last_when
        if when > since and not [s for s in select(samples, "hostiso_domain_info")
                                 if s[1]["domain"].startswith(GUEST_PREFIX)]:
            return True
        time.sleep(1)
    return False


def run_churn(args, exporter, guests):
    """Warm-up and measured churn; returns (scraper, baseline, end, churn results)."""
    scraper = Scraper(exporter, args.scrape_timeout)
    scraper.start()
    seconds = args.warmup + args.duration
    drivers = [ChurnDriver("processes", seconds, args.process_rate, args.max_processes, 64),
               ChurnDriver("threads", seconds, args.thread_rate, args.max_threads, 64)]
    try:
        if guests:
            guests.start()
        warm_up(args, scraper, args.warmup)
        baseline = scraper.wait_sample_after(time.monotonic())
        print("baseline after %.0f s of warm-up: RSS %d KiB, %d fds, %d threads"
              % (args.warmup, baseline.rss_kib, baseline.fds, baseline.threads), flush=True)
        results = [d.result(timeout=args.duration + 120) for d in drivers]
    except BaseException:
        scraper.stop_event.set()
        raise
    finally:
        for d in drivers:
            d.kill()
        if guests:
            guests.stop_event.set()
            guests.join(timeout=120)
    # Let the last censuses and the libvirt refresh see everything gone.
    gone = wait_guests_gone(scraper) if guests else True
    time.sleep(5)
    end = scraper.wait_sample_after(time.monotonic())
    scraper.stop_event.set()
    scraper.join(timeout=30)
    return scraper, baseline, end, results, gone


def report(scraper, baseline, end, results, guests, exporter, log):
    processes = (results[0] or {}).get("processes", 0)
    threads = (results[1] or {}).get("threads", 0)
    during = [fp for fp in scraper.trace if fp.when >= baseline.when]
    print("--- figures ---")
    print("exporter RSS: %d KiB at start, %d KiB after warm-up, %d KiB at end (%+d KiB); "
          "max %d KiB during the measured churn"
          % (scraper.trace[0].rss_kib, baseline.rss_kib, end.rss_kib,
             end.rss_kib - baseline.rss_kib, max(fp.rss_kib for fp in during)))
    print("exporter fds: %d after warm-up, %d at end (max %d); threads: %d after warm-up, "
          "%d at end (min %d, max %d)"
          % (baseline.fds, end.fds, max(fp.fds for fp in during), baseline.threads,
             end.threads, min(fp.threads for fp in during), max(fp.threads for fp in during)))
    print("scrapes: %d ok, %d failed, slowest %.3f s; measured churn %.0f s"
          % (scraper.ok, len(scraper.failures), scraper.slowest, end.when - baseline.when))
    reasons = collections.Counter(r.split(":")[0] for r in scraper.failures)
    if reasons:
        print("failed scrapes by reason: %s" % dict(reasons))
    print("churn: %d processes, %d threads started; %d guests cycled (%s)"
          % (processes, threads, guests.cycled if guests else 0,
             ", ".join(sorted(scraper.domains)) or "none seen"))
    print("intrusion comms seen on cpu %d: %s" % (GUEST_CPU, sorted(scraper.comms)))
    print("scrapes with a collector's success 0: %s" % dict(scraper.unsuccessful))
    print("exporter log lines: %d; exporter alive at end: %s"
          % (len(log), exporter.proc.poll() is None))
    return processes, threads


def check(args, scraper, baseline, end, churn, guests, gone):
    """Returns the list of failed assertions."""
    processes, threads = churn
    failed = []

    def expect(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failed.append(what)

    expect(not scraper.failures, "no failed scrape (%d ok, %d failed)"
           % (scraper.ok, len(scraper.failures)))
    expect(end.threads == baseline.threads, "thread count unchanged (%d -> %d)"
           % (baseline.threads, end.threads))
    expect(baseline.threads > args.workers, "thread count %d covers the %d CivetWeb workers"
           % (baseline.threads, args.workers))
    expect(abs(end.fds - baseline.fds) <= args.fd_bound, "fds within %d (%d -> %d)"
           % (args.fd_bound, baseline.fds, end.fds))
    expect(end.rss_kib - baseline.rss_kib < args.rss_bound_kib, "RSS growth below %d KiB (%+d)"
           % (args.rss_bound_kib, end.rss_kib - baseline.rss_kib))
    expect(processes > 0 and threads > 0, "the churn drivers ran (%d processes, %d threads)"
           % (processes, threads))
    # Names only the churn uses (the reserved and empty ones would prove nothing).
    own = {n.decode() for n in ODD_NAMES if n.isascii() and len(n) > 6}
    expect(any(c in own or c.startswith("soak-") for c in scraper.comms),
           "the census classified churned processes on cpu %d" % GUEST_CPU)
    if guests:
        expect(not guests.errors, "virsh errors: %s" % (guests.errors or "none"))
        expect(guests.cycled > 0 and scraper.domains, "guests cycled (%d) and seen (%d names)"
               % (guests.cycled, len(scraper.domains)))
        expect(gone, "no guest of ours left in the exposition after the churn")
    return failed


class LogDrain(threading.Thread):
    """Reads the exporter's stderr as it comes (a full pipe would stall the exporter)."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.stream = proc.stderr.buffer
        self.lines = []

    def run(self):
        for line in iter(self.stream.readline, b""):
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))


def soak(args, work):
    libvirtd, guests = start_guests(args, work)
    exporter = None
    try:
        exporter = Exporter(args.exporter, exporter_args(work) + [
            "--web.max-connections=%d" % args.workers], port=free_port())
        exporter.__enter__()  # stopped below, not by __exit__: its stderr is drained here
        log = LogDrain(exporter.proc)
        log.start()
        print("exporter pid %d on port %d: %s" % (exporter.proc.pid, exporter.port,
                                                  " ".join(exporter.args)), flush=True)
        scraper, baseline, end, results, gone = run_churn(args, exporter, guests)
        churn = report(scraper, baseline, end, results, guests, exporter, log.lines)
        failed = check(args, scraper, baseline, end, churn, guests, gone)
        if exporter.proc.poll() is not None:
            failed.append("the exporter exited (%s)" % exporter.proc.returncode)
        print("libvirt: hostiso_libvirt_up %s at end"
              % (value(scraper.last, "hostiso_libvirt_up") if scraper.last else "unknown"))
    finally:
        if exporter and exporter.proc:
            stop_process(exporter.proc)
        if libvirtd:
            libvirtd.stop()
    if failed:
        print("exporter log (last 20 lines):\n  " + "\n  ".join(log.lines[-20:]))
    print("%s: soak, %d failed check(s)" % ("FAIL" if failed else "PASS", len(failed)))
    return 1 if failed else 0


def interrupted(*_):
    print("FAIL: interrupted by SIGTERM; stopping everything this test started", flush=True)
    sys.exit(1)


def main():
    args = parse_args()
    if args.role == "processes":
        run_process_churn(args.churn_seconds, args.churn_rate, args.churn_max,
                          args.churn_max_alive)
        return 0
    if args.role == "threads":
        run_thread_churn(args.churn_seconds, args.churn_rate, args.churn_max,
                         args.churn_max_alive)
        return 0
    if not args.exporter or not os.access(args.exporter, os.X_OK):
        print("SKIP: exporter binary not given or not executable: %r" % args.exporter)
        return SKIP
    if not ALL_CPUS <= os.sched_getaffinity(0):
        print("SKIP: needs CPUs 0 and 1 (host CPU 0, guest CPU 1)")
        return SKIP
    # SIGTERM (ctest's timeout, a CI runner) unwinds through the finally blocks that stop
    # the exporter, the churn, the guests and the daemons.
    signal.signal(signal.SIGTERM, interrupted)
    work = tempfile.mkdtemp(prefix="hostiso-soak.", dir="/var/tmp")
    os.chmod(work, 0o755)  # QEMU (user libvirt-qemu) opens the disk image in here
    try:
        return soak(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
