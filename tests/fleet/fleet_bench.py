#!/usr/bin/env python3
"""Fleet-scale simulation: the shipped recording rules and the Fleet overview
and Capacity planning dashboards over synthetic history of many hosts, in a
real Prometheus (benchmark, ctest label `bench`).

Usage: fleet_bench.py [--hosts 50] [--hours 6] [--reps 5] [--query-timeout 2m]
                      [--rules backfill|synthesize] [--json OUT]

1. Per host, the series of a 64-CPU compute host: the exposition of the
   smt_large fixture (tests/golden/smt_large.prom: cpu, isolation, memory
   collectors, 64 CPUs) plus what libvirt, census, interrupts and disk add
   for 16 guests of 4 vCPUs, a few violations; job="hostiso", two clusters.
   Counters grow at role-dependent rates, a few hosts have steal, vCPU delay,
   violations and shrinking disk headroom.
2. Written as OpenMetrics at 1-minute resolution, one file per 2 h block
   window, each loaded with `promtool tsdb create-blocks-from openmetrics`
   while the next is written (wall, CPU time and peak RSS of each run).
3. A Prometheus on 127.0.0.1 with its own data directory over those blocks;
   the recording rules backfilled with `promtool tsdb create-blocks-from
   rules` (every rule at every minute of the history: timed), Prometheus
   restarted with them; or, with --rules synthesize, each rule evaluated
   once at the end of the history and its result loaded as constant series
   over the whole history (the simulated rates are constant).
4. Every recording rule as an instant query, and every query of the Fleet and
   Capacity dashboards as Grafana sends it: instant targets and variables as
   instant queries, the others as range queries over the last hour (step
   60 s) and the whole history (step 120 s): --reps runs each, p50 and p99;
   Prometheus' resident memory (VmRSS, VmHWM) at the end.
Prints a report; exit 0 when everything ran (no query failed), 1 otherwise,
77 when promtool or prometheus is missing.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, os.path.join(REPO, "tests", "dashboards"))
from exporter_harness import SKIP, free_port, stop_process  # noqa: E402
import check_dashboards  # noqa: E402
import query_dashboards_live  # noqa: E402

RULES = os.path.join(REPO, "alerts", "hostiso.rules.yml")
TEMPLATE = os.path.join(REPO, "tests", "golden", "smt_large.prom")
STEP = 60
BLOCK_S = 7200  # promtool's block duration (2 h)
DOMAINS, VCPUS = 16, 4
ROLE_RATES = {  # consumer -> CPU-seconds per second, by CPU role
    "host": {"host": 0.30, "guest": 0.0, "steal": 0.002, "idle": 0.698},
    "dedicated": {"host": 0.004, "guest": 0.70, "steal": 0.002, "idle": 0.294},
    "shared": {"host": 0.05, "guest": 0.50, "steal": 0.01, "idle": 0.44},
    "guest": {"host": 0.05, "guest": 0.50, "steal": 0.01, "idle": 0.44},
}
PLACEHOLDER_VALUES = {"<duration>": 0.002, "<value>": 1.0}
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')


def frac(*key):
    """Deterministic pseudo-random number in [0, 1) from a key."""
    h = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0 ** 64


def template_series():
    """[(name, labels text, value)] of the fixture host, and its CPU roles."""
    out, roles = [], {}
    with open(TEMPLATE) as f:
        for line in f:
            m = SAMPLE_RE.match(line.strip())
            if not m or line.startswith("#"):
                continue
            # golden placeholders: <duration>, <fixture>, <version>, and <value>
            # for what varies from run to run (the process_* metrics)
            name, labels = m.group(1), (m.group(2) or "").replace("<fixture>", "/etc/nova")
            labels = labels.replace("<version>", "0.1.0").replace("<revision>", "fleet")
            v = PLACEHOLDER_VALUES.get(m.group(3))
            v = float(m.group(3)) if v is None else v
            out.append((name, labels, v))
            r = re.search(r'cpu="(\d+)",role="(\w+)"', labels)
            if name == "hostiso_cpu_role" and r and v == 1:
                roles[r.group(1)] = r.group(2)
    return out, roles


def guest_series(h):
    """(name, labels, base, rate) the libvirt, census, interrupts and disk
    collectors add on a host with DOMAINS guests of VCPUS vCPUs."""
    s = []
    for d in range(DOMAINS):
        dom = "instance-%08x" % (h * 100 + d)
        uuid = hashlib.md5(dom.encode()).hexdigest()
        s.append(("hostiso_domain_info", 'domain="%s",uuid="%s",instance_name="vm-%d-%d",'
                  'project_id="p%d",project_name="project-%d",flavor="m1.large",'
                  'cpu_policy="dedicated"' % (dom, uuid, h, d, d % 5, d % 5), 1, 0))
        for n, v in (("vcpus", VCPUS), ("memory_bytes", 8 << 30), ("rss_bytes", 6 << 30)):
            s.append(("hostiso_domain_" + n, 'domain="%s"' % dom, v, 0))
        delay = 0.15 if frac(h, d, "delay") < 0.02 else 0.002 * frac(h, d)
        for v in range(VCPUS):
            lab = 'domain="%s",vcpu="%d"' % (dom, v)
            s.append(("hostiso_vcpu_time_seconds_total", lab, 1000, 0.7))
            s.append(("hostiso_vcpu_delay_seconds_total", lab, 10, delay))
            s.append(("hostiso_vcpu_cpu", lab, 2 + d * VCPUS + v, 0))
            s.append(("hostiso_vcpu_affinity_cpus", lab, 1, 0))
    for cpu in range(64):
        s.append(("hostiso_cpu_vcpu_delay_seconds_total", 'cpu="%d"' % cpu, 5, 0.001))
        if cpu % 8 == 0:
            for comm in ("ovs-vswitchd", "kworker", "other"):
                s.append(("hostiso_intrusion_seconds_total", 'cpu="%d",comm="%s"' % (cpu, comm),
                          1, 0.0005))
    for pol, cap, alloc in (("dedicated", 62, 64), ("shared", 0, 0)):
        s.append(("hostiso_vcpu_capacity", 'policy="%s"' % pol, cap, 0))
        s.append(("hostiso_vcpus_allocated", 'policy="%s"' % pol, alloc, 0))
    for res, v in (("cpu", 4), ("ram", 1), ("disk", 1)):
        s.append(("hostiso_allocation_ratio", 'resource="%s"' % res, v, 0))
    s += [("hostiso_memory_guest_allocated_bytes", "", DOMAINS * (8 << 30), 0),
          ("hostiso_memory_guest_capacity_bytes", "", 400 << 30, 0),
          ("hostiso_libvirt_up", "", 1, 0), ("hostiso_host_tasks_on_guest_cpus", "", 3, 0),
          ("hostiso_census_duration_seconds", "", 0.1, 0),
          ("hostiso_census_tasks", "", 2500, 0), ("hostiso_census_age_seconds", "", 7, 0),
          ("hostiso_disk_reserved_bytes", "", 20 << 30, 0)]
    shrink = -(1 << 20) * 3 if frac(h, "disk") < 0.1 else 0
    for role, path, size in (("instances", "/var/lib/nova/instances", 2 << 40),
                             ("root", "/", 100 << 30)):
        lab = 'role="%s",path="%s"' % (role, path)
        s.append(("hostiso_disk_size_bytes", lab, size, 0))
        s.append(("hostiso_disk_free_bytes", lab, size // 2, shrink if role == "instances" else 0))
    s.append(("hostiso_disk_reserve_headroom_bytes", "", (1 << 40) - (20 << 30), shrink))
    for coll in ("libvirt", "census", "interrupts", "disk"):
        s.append(("hostiso_collector_success", 'collector="%s"' % coll, 1, 0))
        s.append(("hostiso_collector_duration_seconds", 'collector="%s"' % coll, 0.002, 0))
    if frac(h, "violation") < 0.05:
        s.append(("hostiso_violation_info", 'kind="vcpu_on_host_cpu",'
                  'subject="instance-%08x vcpu 0",cpus="0-1"' % (h * 100), 1, 0))
    return s


def host_series(h, template, roles):
    """[(series text, base, rate)] of host h."""
    cluster = "c%d" % (h % 2 + 1)
    prefix = 'cluster="%s",job="hostiso",instance="cn-%04d:9933"' % (cluster, h)
    steal = 1 + 40 * (frac(h, "steal") < 0.03)
    out = []
    guests = guest_series(h)
    # the guests' figures replace the fixture's (which has no guests)
    replaced = {(name, labels) for name, labels, _, _ in guests}
    for name, labels, v in template:
        if (name, labels) in replaced:
            continue
        rate = 0.0
        if name == "hostiso_cpu_seconds_total":
            cpu, consumer = re.search(r'cpu="(\d+)",consumer="(\w+)"', labels).groups()
            rate = ROLE_RATES[roles.get(cpu, "host")][consumer]
            rate *= steal if consumer == "steal" else 1
        elif name.endswith("_total"):
            rate = 0.01 * frac(h, name, labels)
        out.append(("%s{%s%s}" % (name, prefix, "," + labels if labels else ""), v, rate))
    out.append(("up{%s}" % prefix, 1, 0))  # what Prometheus records for the scrape
    for name, labels, v, rate in guests:
        out.append(("%s{%s%s}" % (name, prefix, "," + labels if labels else ""), v, rate))
    return out


def write_openmetrics(path, series, start, steps):
    """Time-major: every series at each step in `steps`, then # EOF. Says how
    far it got every 30 steps (a large fleet takes many minutes)."""
    t0 = time.perf_counter()
    with open(path, "w") as f:
        for n, k in enumerate(steps):
            ts = start + k * STEP
            t = k * STEP
            f.write("".join("%s %.10g %d\n" % (s, base + rate * t, ts) for s, base, rate in series))
            if n % 30 == 29:
                print("  generated %d of %d steps in %.0f s"
                      % (n + 1, len(steps), time.perf_counter() - t0), flush=True)
        f.write("# EOF\n")


def block_slices(start, samples):
    """The sample steps grouped by promtool's 2 h block window. promtool
    rereads its whole input file for every window it spans, so one file per
    window reads each sample twice (its min/max scan, then the window)."""
    slices = {}
    for k in range(samples):
        slices.setdefault((start + k * STEP) // BLOCK_S, []).append(k)
    return [slices[w] for w in sorted(slices)]


class Loader:
    """`promtool tsdb create-blocks-from openmetrics` of one slice at a time,
    in the background while the next slice is generated; wall, CPU time and
    peak RSS of each run (wait4)."""

    def __init__(self, data, log):
        self.data, self.log, self.proc, self.runs = data, log, None, []

    def start(self, om):
        self.wait()
        self.om, self.t0 = om, time.perf_counter()
        self.proc = subprocess.Popen(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                                      "--quiet", om, self.data],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self):
        if self.proc is None:
            return
        _, status, ru = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        run = {"wall_s": time.perf_counter() - self.t0, "cpu_s": ru.ru_utime + ru.ru_stime,
               "maxrss_kib": ru.ru_maxrss, "bytes": os.path.getsize(self.om),
               "exit": self.proc.returncode}
        self.runs.append(run)
        print("  promtool create-blocks-from openmetrics %s: %.1f s, CPU %.1f s, max RSS %d MiB"
              % (os.path.basename(self.om), run["wall_s"], run["cpu_s"], ru.ru_maxrss >> 10),
              flush=True)
        os.remove(self.om)
        self.proc = None
        if run["exit"] != 0:
            self.log.flush()
            with open(self.log.name, errors="replace") as f:
                tail = f.read()[-2000:]
            raise RuntimeError("promtool create-blocks-from openmetrics failed:\n" + tail)

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, timeout=30)


class Prometheus:
    """A Prometheus on 127.0.0.1 over `data`, with the shipped rules loaded."""

    def __init__(self, data, workdir, query_timeout="2m"):
        self.data, self.port, self.proc = data, free_port(), None
        self.query_timeout = query_timeout
        self.config = os.path.join(workdir, "prometheus.yml")
        shutil.copy(RULES, os.path.join(workdir, "hostiso.rules.yml"))
        with open(self.config, "w") as f:
            yaml.safe_dump({"global": {"evaluation_interval": "1m"},
                            "rule_files": ["hostiso.rules.yml"]}, f)
        self.log = open(os.path.join(workdir, "prometheus.log"), "a")

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + self.config, "--storage.tsdb.path=" + self.data,
             "--web.listen-address=127.0.0.1:%d" % self.port,
             "--storage.tsdb.retention.time=10y", "--query.max-samples=200000000",
             "--query.timeout=" + self.query_timeout],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("Prometheus not ready within 120 s")

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=30)
        self.log.close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def query(self, path, params):
        """(seconds, number of series) of one API query; raises on an error."""
        url = "%s/api/v1/%s?%s" % (self.url, path, urllib.parse.urlencode(params))
        t0 = time.perf_counter()
        with urllib.request.urlopen(url, timeout=900) as r:  # Prometheus times out first
            body = json.load(r)
        dt = time.perf_counter() - t0
        if body.get("status") != "success":
            raise RuntimeError("%s: %s" % (params.get("query"), body))
        return dt, len(body["data"]["result"])

    def scalar(self, expr, at):
        """The single value of an instant query."""
        params = urllib.parse.urlencode({"query": expr, "time": at})
        url = "%s/api/v1/query?%s" % (self.url, params)
        with urllib.request.urlopen(url, timeout=900) as r:
            return int(float(json.load(r)["data"]["result"][0]["value"][1]))

    def memory_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM")}


def timed(fn, reps):
    times, n = [], 0
    for _ in range(reps):
        dt, n = fn()
        times.append(dt)
    return {"p50": statistics.median(times), "max": max(times), "series": n, "times": times}


def dashboard_queries():
    """(dashboard, where, expr, instant) of the Fleet and Capacity dashboards:
    targets and annotations as Grafana sends them (instant targets as instant
    queries), variables' label_values() as instant queries."""
    wanted = ("hostiso-fleet-overview.json", "hostiso-capacity-planning.json")
    out = []
    dash_dir = query_dashboards_live.DEFAULT_DASHBOARDS
    for path, data, err in check_dashboards.load_dashboards(dash_dir):
        name = os.path.basename(path)
        if name not in wanted or err:
            continue
        out += [(name, where, expr, instant)
                for where, expr, instant in check_dashboards.dashboard_exprs(data)]
        for vname, q in check_dashboards.variable_queries(data):
            m = query_dashboards_live.LABEL_VALUES_RE.match(q)
            if m:
                out.append((name, "variable " + vname,
                            "count by (%s) (%s)" % (m.group(2), m.group(1)), True))
    return out


def run_queries(prom, end, hours, reps):
    rules = [r for g in yaml.safe_load(open(RULES))["groups"] for r in g["rules"]
             if "record" in r]
    report = {"rules": [], "dashboards": [], "failures": []}
    for r in rules:
        try:
            res = timed(lambda: prom.query("query", {"query": r["expr"], "time": end}), reps)
            report["rules"].append(dict(res, name=r["record"]))
        except (RuntimeError, OSError) as e:
            report["failures"].append("rule %s: %s" % (r["record"], e))
    for dash, where, expr, instant in dashboard_queries():
        q = check_dashboards.substitute_variables(expr, rate_interval="4m", job="hostiso")
        spans = [("instant", 0, 0)] if instant else \
            [("1h", 3600, 60), ("%dh" % hours, hours * 3600, 120)][:1 if hours <= 1 else 2]
        for label, span, step in spans:
            path, params = ("query", {"query": q, "time": end}) if instant else \
                ("query_range", {"query": q, "start": end - span, "end": end, "step": step})
            try:
                res = timed(lambda: prom.query(path, params), reps)
                report["dashboards"].append(dict(res, dashboard=dash, where=where, range=label))
            except (RuntimeError, OSError) as e:
                report["failures"].append("%s %s [%s]: %s" % (dash, where, label, e))
    report["memory_kib"] = prom.memory_kib()
    return report


def summarize(report):
    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else 0
    lines = []
    for r in report["rules"]:
        lines.append("rule %-58s p50 %7.1f ms  max %7.1f ms  %6d series"
                     % (r["name"], r["p50"] * 1e3, r["max"] * 1e3, r["series"]))
    for span in sorted({d["range"] for d in report["dashboards"]}):
        ds = [d for d in report["dashboards"] if d["range"] == span]
        runs = [t for d in ds for t in d["times"]]
        worst = max(ds, key=lambda d: d["max"])
        lines.append("dashboards, range %s: %d queries x %d runs: p50 %.1f ms, p99 %.1f ms, "
                     "slowest %.1f ms (%s %s)"
                     % (span, len(ds), len(runs) // max(1, len(ds)), pct(runs, 50) * 1e3,
                        pct(runs, 99) * 1e3, worst["max"] * 1e3, worst["dashboard"],
                        worst["where"]))
    runs = [t for r in report["rules"] for t in r["times"]]
    lines.append("recording rules (instant): p50 %.1f ms, p99 %.1f ms"
                 % (pct(runs, 50) * 1e3, pct(runs, 99) * 1e3))
    return "\n".join(lines)


def run_step(what, cmd, log):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    dt = time.perf_counter() - t0
    print("%s: %.1f s" % (what, dt), flush=True)
    if r.returncode != 0:
        # the log lives in the scratch directory, which is about to go
        log.flush()
        with open(log.name, errors="replace") as f:
            tail = f.read()[-2000:]
        raise RuntimeError("%s failed (exit %d):\n%s" % (what, r.returncode, tail))
    return dt


def load_history(series, start, samples, tmp, name):
    """Writes `series` at every step, one OpenMetrics file per block window,
    and loads each into tmp/data while the next is written. Returns facts."""
    facts = {"generate_s": 0.0, "openmetrics_bytes": 0}
    loader = Loader(os.path.join(tmp, "data"), open(os.path.join(tmp, "promtool.log"), "a"))
    t0 = time.perf_counter()
    try:
        for i, steps in enumerate(block_slices(start, samples)):
            om = os.path.join(tmp, "%s-%d.om" % (name, i))
            t1 = time.perf_counter()
            write_openmetrics(om, series, start, steps)
            facts["generate_s"] += time.perf_counter() - t1
            facts["openmetrics_bytes"] += os.path.getsize(om)
            print("  %s slice %d: %d steps, %d bytes in %.1f s" % (
                name, i, len(steps), os.path.getsize(om), time.perf_counter() - t1), flush=True)
            loader.start(om)
        loader.wait()
    finally:
        loader.stop()
    facts["load_wall_s"] = time.perf_counter() - t0
    facts["promtool_runs"] = loader.runs
    facts["promtool_cpu_s"] = sum(r["cpu_s"] for r in loader.runs)
    facts["promtool_max_rss_kib"] = max(r["maxrss_kib"] for r in loader.runs)
    return facts


def series_text(metric):
    """name{labels} of an API result's metric, escaped as OpenMetrics wants."""
    def esc(v):
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    labels = ",".join('%s="%s"' % (k, esc(v)) for k, v in sorted(metric.items())
                      if k != "__name__")
    return "%s{%s}" % (metric["__name__"], labels)


def synthesize_rules(prom, end):
    """Each recording rule evaluated once, at the end of the history, as the
    series it records, held constant (the simulated rates are constant): a
    stand-in for the rule backfill, which a large fleet's history outgrows."""
    out = []
    for g in yaml.safe_load(open(RULES))["groups"]:
        for r in g["rules"]:
            if "record" not in r:
                continue
            url = "%s/api/v1/query?%s" % (prom.url, urllib.parse.urlencode(
                {"query": r["expr"], "time": end}))
            t0 = time.perf_counter()
            with urllib.request.urlopen(url, timeout=900) as resp:
                result = json.load(resp)["data"]["result"]
            print("  rule %s: %d series in %.1f s" % (r["record"], len(result),
                                                      time.perf_counter() - t0), flush=True)
            for res in result:
                v = float(res["value"][1])
                if v == v and abs(v) != float("inf"):
                    out.append((series_text(dict(res["metric"], __name__=r["record"])), v, 0))
    return out


def record_rules(args, data, tmp, start, end, samples, facts):
    """The recorded series over the whole history, backfilled by promtool (every
    rule at every minute) or synthesized (--rules synthesize)."""
    log = open(os.path.join(tmp, "promtool.log"), "a")
    rule_blocks = os.path.join(tmp, "rule-blocks")
    with Prometheus(data, tmp, args.query_timeout) as prom:
        if args.rules == "synthesize":
            t0 = time.perf_counter()
            recorded = synthesize_rules(prom, end)
            facts["rules_eval_s"] = time.perf_counter() - t0
        else:
            facts["backfill_rules_s"] = run_step("promtool tsdb create-blocks-from rules", [
                "promtool", "tsdb", "create-blocks-from", "rules", "--start", str(start),
                "--end", str(end), "--url", prom.url, "--eval-interval", "60s",
                "--output-dir", rule_blocks, RULES], log)
    if args.rules == "synthesize":
        facts["recorded"] = load_history(recorded, start, samples, tmp, "recorded")
        facts["recorded"]["series"] = len(recorded)
        return
    for block in os.listdir(rule_blocks):
        shutil.move(os.path.join(rule_blocks, block), os.path.join(data, block))


def reuse_history(args, tmp):
    """--data: the raw history already loaded (blocks of an earlier or partial
    run), hard-linked into tmp/data; (start, end, samples, facts)."""
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    mint, maxt = None, None
    for block in os.listdir(args.data):
        meta = os.path.join(args.data, block, "meta.json")
        if not os.path.exists(meta):
            continue
        with open(meta) as f:
            m = json.load(f)
        mint = m["minTime"] if mint is None else min(mint, m["minTime"])
        maxt = m["maxTime"] if maxt is None else max(maxt, m["maxTime"])
        shutil.copytree(os.path.join(args.data, block), os.path.join(data, block),
                        copy_function=os.link)
    start, end = -(-mint // 1000), (maxt - 1) // 1000  # maxTime is exclusive
    samples = (end - start) // STEP + 1
    facts = {"hosts": args.hosts, "hours": (end - start) / 3600.0, "samples_per_series": samples,
             "reused_data": args.data}
    print("reusing %s: %d steps from %d to %d" % (args.data, samples, start, end), flush=True)
    return start, end, samples, facts


def simulate(args, tmp):
    if args.data:
        start, end, samples, facts = reuse_history(args, tmp)
        data = os.path.join(tmp, "data")
        record_rules(args, data, tmp, start, end, samples, facts)
        with Prometheus(data, tmp, args.query_timeout) as prom:
            _, names = prom.query("query", {"query": 'count by (__name__) ({job="hostiso"})',
                                            "time": end})
            facts["series"] = prom.scalar('count({job="hostiso",__name__!~".*:.*"})', end)
            report = run_queries(prom, end, max(1, int(facts["hours"])), args.reps)
        facts["metric_names"] = names
        report["facts"] = facts
        return report
    template, roles = template_series()
    series = [s for h in range(args.hosts) for s in host_series(h, template, roles)]
    samples = args.hours * 3600 // STEP + 1
    end = (int(time.time()) // STEP) * STEP - 3600  # ends before the head block
    start = end - (samples - 1) * STEP
    facts = {"hosts": args.hosts, "hours": args.hours, "series": len(series),
             "series_per_host": len(series) // args.hosts, "samples": len(series) * samples}
    print("%(series)d series (%(series_per_host)d per host), %(samples)d samples" % facts,
          flush=True)
    facts.update(load_history(series, start, samples, tmp, "fleet"))
    del series
    print("generated %(openmetrics_bytes)d bytes in %(generate_s).1f s; loaded (generation "
          "overlapping) in %(load_wall_s).1f s, promtool CPU %(promtool_cpu_s).1f s, "
          "max RSS %(promtool_max_rss_kib)d KiB" % facts, flush=True)
    data = os.path.join(tmp, "data")
    record_rules(args, data, tmp, start, end, samples, facts)
    with Prometheus(data, tmp, args.query_timeout) as prom:
        _, names = prom.query("query", {"query": 'count by (__name__) ({job="hostiso"})',
                                        "time": end})
        report = run_queries(prom, end, args.hours, args.reps)
    facts["metric_names"] = names
    report["facts"] = facts
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--hours", type=int, default=6)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--query-timeout", default="2m",
                    help="Prometheus --query.timeout (its default 2m; at 1,000 hosts a rule's "
                         "range query during the rule backfill took longer: HTTP 503)")
    ap.add_argument("--rules", choices=("backfill", "synthesize"), default="backfill",
                    help="recorded series over the history: promtool's rule backfill (every "
                         "rule at every minute), or each rule evaluated once at the end and "
                         "held constant (for fleets whose backfill takes hours)")
    ap.add_argument("--data", help="skip generating and loading: query the raw history in this "
                    "TSDB directory (blocks of an earlier run, e.g. a partial one)")
    ap.add_argument("--json", help="write the full report here")
    args = ap.parse_args()
    for tool in ("promtool", "prometheus"):
        if not shutil.which(tool):
            print("SKIP: %s not found (Debian package prometheus)" % tool)
            return SKIP
    # SIGTERM (a run stopped early) unwinds like Ctrl-C: Prometheus and promtool
    # are stopped and the scratch directory (GBs) is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("fleet_bench: stopped by SIGTERM"))
    with tempfile.TemporaryDirectory(prefix="hostiso-fleet-") as tmp:
        report = simulate(args, tmp)
    print(summarize(report))
    print("prometheus memory: VmRSS %(VmRSS)d KiB, VmHWM %(VmHWM)d KiB" % report["memory_kib"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    for failure in report["failures"]:
        print("FAIL:", failure)
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
