#!/usr/bin/env python3
"""End-to-end test on this machine's real /proc and /sys.

Checks, against what the test itself reads from the kernel: one series per
online CPU and consumer; the four consumers add up to the CPU's /proc/stat
time; counters never decrease; roles from --isolation.guest-cpus; the landing
page, 404s and concurrent scrapes; nova.conf hot reload (valid -> broken ->
fixed) without restart; `promtool check metrics` on the real exposition.
"""
import argparse
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import exporter_harness as h  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def online_cpus():
    cpus = set()
    for part in open("/sys/devices/system/cpu/online").read().strip().split(","):
        a, _, b = part.partition("-")
        cpus.update(range(int(a), int(b or a) + 1))
    return cpus


def proc_stat_seconds():
    """cpu -> total seconds of all consumers, from /proc/stat (guest is inside user)."""
    out = {}
    for line in open("/proc/stat"):
        f = line.split()
        if f and f[0].startswith("cpu") and f[0] != "cpu":
            v = [int(x) for x in f[1:]] + [0] * 10
            total = sum(v[0:8])  # user..steal; guest/guest_nice are already in user/nice
            out[int(f[0][3:])] = total / HZ
    return out


def write_nova(path, text, stamp):
    with open(path, "w") as f:
        f.write(text)
    os.utime(path, (stamp, stamp))


def check_first_scrape(c, s1, cpus, before, after):
    """Per-CPU consumers against /proc/stat, roles from nova.conf, collector health."""
    last = max(cpus)
    for cpu in sorted(cpus):
        parts = [h.value(s1, "hostiso_cpu_seconds_total", cpu=str(cpu), consumer=k)
                 for k in ("host", "guest", "steal", "idle")]
        total = sum(parts)
        # The exporter read /proc/stat between our two reads.
        c.check(before[cpu] - 0.05 <= total <= after[cpu] + 0.05,
                "cpu %d: consumers add up to /proc/stat time (%.2f <= %.2f <= %.2f)"
                % (cpu, before[cpu], total, after[cpu]))
    c.check(len(h.select(s1, "hostiso_cpu_seconds_total")) == 4 * len(cpus),
            "one series per online CPU and consumer")
    c.check(h.value(s1, "hostiso_cpu_role", cpu=str(last), role="dedicated") == 1,
            "cpu %d has role dedicated from nova.conf" % last)
    if len(cpus) > 1:
        c.check(h.value(s1, "hostiso_cpu_role", cpu="0", role="host") == 1, "cpu 0 is host")
    c.check(h.value(s1, "hostiso_collector_success", collector="cpu") == 1,
            "cpu collector ok")
    c.check(h.value(s1, "hostiso_collector_success", collector="isolation") == 1,
            "isolation collector ok")
    c.check(h.value(s1, "hostiso_config_load_success", source="nova") == 1,
            "nova.conf loaded")
    c.check(len(h.select(s1, "hostiso_violating_subjects")) == 15,
            "every violation kind present")


def check_counters_grow(c, s1, s2, cpus):
    """No counter decreases between two scrapes; CPU time grows with wall time."""
    prev = {(n, tuple(sorted(labels.items()))): v for n, labels, v in s1 if n.endswith("_total")}
    decreased = [k for n, labels, v in s2 if n.endswith("_total")
                 for k in [(n, tuple(sorted(labels.items())))] if k in prev and v < prev[k]]
    c.check(not decreased, "no counter decreased between scrapes: %s" % decreased[:3])
    grew = sum(v for n, _, v in s2 if n == "hostiso_cpu_seconds_total") - \
        sum(v for n, _, v in s1 if n == "hostiso_cpu_seconds_total")
    c.check(0.5 * len(cpus) < grew < 3 * len(cpus),
            "CPU time grew by about wall time x CPUs (%.2f s over ~1.2 s)" % grew)


def check_http_paths(c, ex, nova):
    """The landing page names nova.conf and its state; other paths are 404."""
    status, body = ex.get("/")
    c.check(status == 200 and "hostiso_exporter" in body and "/metrics" in body,
            "landing page")
    c.check(nova in body and "loaded" in body, "landing page names nova.conf and its state")
    c.check(ex.get("/nope")[0] == 404, "unknown path is 404")
    c.check(ex.get("/metrics/extra")[0] == 404, "/metrics/extra is 404")


def check_concurrent_scrapes(c, ex):
    """8 threads x 15 scrapes: all complete, all parse."""
    errors = []

    def scrape_many():
        for _ in range(15):
            try:
                h.parse(ex.metrics())
            except Exception as e:  # noqa: BLE001 - any failure counts
                errors.append(repr(e))
    h.run_concurrently(scrape_many, 8)
    c.check(not errors, "120 concurrent scrapes succeed: %s" % errors[:2])


def nova_loaded(value):
    return lambda s: [x[2] for x in h.select(s, "hostiso_config_load_success",
                                             source="nova")] == [value]


def check_nova_hot_reload(c, ex, nova, cpus):
    """nova.conf is re-read off the scrape path: at once on SIGHUP, else on the
    isolation worker's schedule. A broken file keeps the last good config."""
    last = max(cpus)
    write_nova(nova, "[compute]\ncpu_dedicated_set = 9-1\n", 2000)
    ex.proc.send_signal(signal.SIGHUP)
    s3 = ex.wait_for(nova_loaded(0), timeout=5)
    c.check(s3 is not None, "SIGHUP: broken nova.conf seen, load_success 0")
    c.check(ex.proc.poll() is None, "SIGHUP does not stop the exporter")
    if s3 is not None:
        c.check(h.value(s3, "hostiso_cpu_role", cpu=str(last), role="dedicated") == 1,
                "broken nova.conf: last good roles kept")
    shared = "0" if len(cpus) > 1 else str(last)
    write_nova(nova, "[compute]\ncpu_shared_set = %s\n" % shared, 3000)
    # No signal: the worker's 1 s schedule picks it up.
    s4 = ex.wait_for(nova_loaded(1), timeout=10)
    c.check(s4 is not None, "fixed nova.conf: load_success 1 without a signal")
    if s4 is not None:
        c.check(h.value(s4, "hostiso_cpu_role", cpu=shared, role="shared") == 1,
                "fixed nova.conf: new roles applied without restart")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    c = h.Checker()
    cpus = online_cpus()
    with tempfile.TemporaryDirectory() as tmp:
        nova = os.path.join(tmp, "nova.conf")
        write_nova(nova, "[compute]\ncpu_dedicated_set = %d\n" % max(cpus), 1000)
        flags = ["--nova.config=%s" % nova, "--collector.disable-defaults", "--collector.cpu",
                 "--collector.isolation", "--isolation.refresh-interval=1"]
        with h.Exporter(args.exporter, flags) as ex:
            before = proc_stat_seconds()
            s1 = h.parse(ex.metrics())
            after = proc_stat_seconds()
            check_first_scrape(c, s1, cpus, before, after)
            time.sleep(1.2)
            check_counters_grow(c, s1, h.parse(ex.metrics()), cpus)
            check_http_paths(c, ex, nova)
            check_concurrent_scrapes(c, ex)
            check_nova_hot_reload(c, ex, nova, cpus)
            raw = ex.metrics()
        c.check("cannot load nova.conf" in ex.stderr and "nova.conf:2:" in ex.stderr,
                "the reload error is logged with file and line")
        ran, problems = h.promtool_check(raw)
        skipped = [] if ran else ["promtool check metrics: " + problems]
        if ran:
            c.check(problems == "", "promtool check metrics on the real exposition: %s" % problems)
    return c.finish(skipped)


if __name__ == "__main__":
    sys.exit(main())
