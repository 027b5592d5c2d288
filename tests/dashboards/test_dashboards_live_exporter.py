#!/usr/bin/env python3
"""End-to-end: the dashboards' queries against a real Prometheus scraping the
real exporter on this machine's /proc and /sys, with the project's recording
rules loaded.

    test_dashboards_live_exporter.py [--exporter PATH] [--rules FILE] [--keep]

1. starts hostiso_exporter (default build/exporter/hostiso_exporter, or
   $HOSTISO_EXPORTER) on 127.0.0.1:<free port>, with --isolation.guest-cpus
   set to the last CPU when the machine has at least two;
2. starts Prometheus on 127.0.0.1:<free port> (temp data dir, 1s scrape and
   rule evaluation) with alerts/hostiso.rules.yml;
3. waits until the recording rules have produced samples, then runs every
   dashboard query (query_dashboards_live.run_queries, $__rate_interval = 10s);
4. fails if Prometheus rejects any query (HTTP 400/422), and if a query
   returns nothing although every metric it reads is in the exporter's
   exposition. Queries that may legitimately be empty on a healthy host are
   not required to return data: those with a filtering comparison
   (`> 0`, `== 0`, ...), and those on label values the host may lack
   (role="instances" storage, policy="dedicated"/"shared" capacity).
   Recording rules count as exposed when every hostiso_* metric of their
   expression is.
   This is also the allowance for metrics of optional collectors (`sched`,
   eBPF, needs privileges) and of readers an older exporter lacks (topology,
   cgroups): where the exporter does not expose them their panels are listed
   as "inputs absent"; tests/dashboards/test_optional_panels.py checks those
   panels' queries on synthetic series instead. An exposed metric is never
   excused.
Both daemons are stopped on every path. Exit 77 (SKIP) when the exporter
binary, prometheus or the rules file is missing. python3 stdlib and
python3-yaml (rules read with yaml.safe_load).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_dashboards  # noqa: E402
import query_dashboards_live as live  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from exporter_harness import free_port, parse, stop_process  # noqa: E402

REPO = check_dashboards.REPO
SKIP = 77
SCRAPE = "1s"
RATE_INTERVAL = "10s"
# label values a healthy host may not have: queries selecting them may be empty
OPTIONAL_LABELS = re.compile(r'role="instances"|policy="(dedicated|shared)"')
FILTERING = re.compile(r"(?<![=!<>])(==|!=|>=|<=|>|<)(?![=~])(?!\s*bool)")


def http_get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_http(url, proc, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            http_get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("%s did not answer %s within %ss" % (what, url, seconds))


def exposed_metric_names(text):
    return {name for name, _, _ in parse(text)}


def filters(expr):
    """The expression drops series with a comparison (so may be empty)."""
    bare = re.sub(r"\{[^}]*\}", "", re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr))
    # (hostiso_cpu_role == 1) keeps a join one-to-one; it filters nothing out
    bare = bare.replace("hostiso_cpu_role == 1", "hostiso_cpu_role")
    return bool(FILTERING.search(bare))


def rule_inputs(rules_path):
    """record name -> (set of hostiso_* names in its expression, filters?).
    Raises ValueError when the file is not a Prometheus rules file."""
    out = {}
    for rule in check_dashboards.load_rules(rules_path):
        if isinstance(rule.get("record"), str):
            expr = str(rule.get("expr", ""))
            out[rule["record"]] = (set(re.findall(r"\bhostiso_[a-z0-9_]*[a-z0-9]\b", expr)),
                                   filters(expr))
    return out


def selector_names(expr):
    names = set()
    for node, _ in check_dashboards.walk(check_dashboards.parse_promql(expr)):
        if node["node"] == "selector" and node.get("name"):
            names.add(node["name"])
    return names


def must_have_data(expr, exposed, rules, static_counters=False):
    """True when a healthy host exposing `exposed` must answer `expr`.
    static_counters: the exporter reads a fixture tree, every rate is 0, so
    recording rules that divide by a rate (and filter out 0) may be empty."""
    if filters(expr) or OPTIONAL_LABELS.search(expr):
        return False
    for name in selector_names(expr):
        if name in check_dashboards.PROMETHEUS_SERIES:
            continue
        if ":" in name:
            inputs, rule_filters = rules.get(name, (None, False))
            if not inputs or not inputs <= exposed:
                return False
            if static_counters and rule_filters:
                return False
        elif name not in exposed:
            return False
    return True


class Daemons:
    def __init__(self):
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="hostiso-dash-e2e-")

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, p))
        return p

    def log(self, name):
        try:
            return open(os.path.join(self.tmp, name + ".log")).read()[-3000:]
        except OSError:
            return ""

    def stop(self, keep=False):
        for _, p in reversed(self.procs):
            stop_process(p, timeout=15)
        if keep:
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exporter", default=os.environ.get(
        "HOSTISO_EXPORTER", os.path.join(REPO, "build", "exporter", "hostiso_exporter")))
    ap.add_argument("--rules", default=os.path.join(REPO, "alerts", "hostiso.rules.yml"))
    ap.add_argument("--dashboards", default=live.DEFAULT_DASHBOARDS)
    ap.add_argument("--fixture", metavar="DIR",
                    help="run the exporter on a fixture tree (DIR/proc, DIR/sys, "
                         "DIR/nova.conf) instead of this machine")
    ap.add_argument("--require-data", action="append", default=[], metavar="REGEX",
                    help="also require data from queries whose panel title or "
                         "expression matches REGEX (repeatable)")
    ap.add_argument("--target", metavar="127.0.0.1:PORT",
                    help="scrape an exporter that is already running instead of starting one")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, TSDB)")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="list every query with its status")
    return ap.parse_args(argv)


def exporter_command(args, tmp, port):
    """The exporter's argv: on a fixture tree, or on this machine as a Nova-like
    host (nova.conf written under tmp)."""
    argv = [args.exporter, "--web.listen-address=127.0.0.1:%d" % port]
    if args.fixture:
        fx = os.path.abspath(args.fixture)
        return argv + ["--path.procfs=" + os.path.join(fx, "proc"),
                       "--path.sysfs=" + os.path.join(fx, "sys"),
                       "--nova.config=" + os.path.join(fx, "nova.conf"),
                       "--no-runtime.confine-to-host-cpus"]
    # A Nova-like host: the last CPU dedicated to guests, instance storage in a
    # directory of its own, so the memory and disk panels have the series a
    # compute node has.
    ncpu = os.cpu_count() or 1
    instances = os.path.join(tmp, "instances")
    os.makedirs(instances, exist_ok=True)
    nova = os.path.join(tmp, "nova.conf")
    with open(nova, "w") as f:
        f.write("[DEFAULT]\ninstances_path = %s\nreserved_host_disk_mb = 1\n"
                "reserved_host_memory_mb = 512\n" % instances)
        if ncpu >= 2:
            f.write("[compute]\ncpu_dedicated_set = %d\n" % (ncpu - 1))
    return argv + ["--nova.config=" + nova]


def start_prometheus(d, prometheus, rules_path, exporter_port, port):
    """Starts Prometheus scraping the exporter with the rules; returns its URL."""
    shutil.copy(rules_path, os.path.join(d.tmp, "hostiso.rules.yml"))
    cfg = os.path.join(d.tmp, "prometheus.yml")
    config = {"global": {"scrape_interval": SCRAPE, "evaluation_interval": SCRAPE},
              "rule_files": ["hostiso.rules.yml"],
              "scrape_configs": [{"job_name": "hostiso", "static_configs": [
                  {"targets": ["127.0.0.1:%d" % exporter_port]}]}]}
    with open(cfg, "w") as f:
        yaml.safe_dump(config, f)
    prom = d.start("prometheus", [prometheus, "--config.file=" + cfg,
                                  "--storage.tsdb.path=" + os.path.join(d.tmp, "tsdb"),
                                  "--web.listen-address=127.0.0.1:%d" % port])
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/-/ready", prom, 30, "prometheus")
    return url


def wait_for_recording_rules(url, fixture):
    """True once the recording rules and rates have samples (at most 40s)."""
    # rates need two scrapes; the rules need one evaluation after that
    # live: a rule fed by rates; fixture: rates stay 0 and that rule stays
    # empty, so wait for a few scrapes (rules run every scrape interval)
    probe = ("instance:hostiso_cpu_steal:ratio_rate5m" if not fixture
             else "count_over_time(hostiso_build_info[1m]) >= 4")
    deadline = time.time() + 40
    while time.time() < deadline:
        _, n, _ = live.instant_query(url, probe)
        _, m, _ = live.instant_query(
            url, "rate(hostiso_cpu_seconds_total[%s])" % RATE_INTERVAL)
        if n and m:
            time.sleep(2)
            return True
        time.sleep(1)
    time.sleep(2)
    return False


def judge_results(results, exposed, rules, args):
    """Returns the failures: a query Prometheus rejects, an empty query whose inputs
    are exposed, fewer than 10 queries required to have data."""
    failures = []
    required = 0
    for r in results:
        if not r.ok:
            failures.append("%s %s rejected: %s\n    %s"
                            % (r.dashboard, r.where, r.error, r.query))
        elif (r.where.startswith("variable")
              or must_have_data(r.expr, exposed, rules, bool(args.fixture))
              or any(re.search(p, r.where) or re.search(p, r.expr)
                     for p in args.require_data)):
            required += 1
            if args.verbose:
                print("required %-5s %s %s" % (r.status, r.dashboard, r.where))
            if r.status == "empty":
                failures.append("%s %s returned no data although the exporter "
                                "exposes its inputs\n    %s"
                                % (r.dashboard, r.where, r.query))
        elif r.status == "empty":
            # Not required: its inputs are absent here (no guests, no
            # violation of that kind); listed so a reader sees the gap.
            print("empty, inputs absent here: %s %s" % (r.dashboard, r.where))
    print("%d queries: %d with data, %d empty, %d required to have data"
          % (len(results), sum(r.status == "data" for r in results),
             sum(r.status == "empty" for r in results), required))
    if required < 10:
        failures.append("only %d queries were required to return data: the "
                        "exporter exposes too little for this test to mean much"
                        % required)
    return failures


def run_live(args, d, prometheus, rules):
    """Starts the daemons, runs every dashboard query; returns the failures."""
    failures = []
    eport, pport = free_port(), free_port()
    if args.target:
        # An exporter someone else runs (the libvirt live test, with real
        # guests): scrape it, start nothing.
        eport = int(args.target.rsplit(":", 1)[1])
    else:
        exp = d.start("exporter", exporter_command(args, d.tmp, eport))
        wait_http("http://127.0.0.1:%d/metrics" % eport, exp, 20, "exporter")
    url = start_prometheus(d, prometheus, args.rules, eport, pport)
    if not wait_for_recording_rules(url, args.fixture):
        failures.append("recording rules produced no samples within 40s")
    exposed = exposed_metric_names(http_get("http://127.0.0.1:%d/metrics" % eport))
    print("exporter exposes %d hostiso_* metrics"
          % len([n for n in exposed if n.startswith("hostiso_")]))
    results = live.run_queries(url, args.dashboards, rate_interval=RATE_INTERVAL,
                               job="hostiso")
    return failures + judge_results(results, exposed, rules, args)


def main(argv=None):
    args = parse_args(argv)
    if not args.target and not os.access(args.exporter, os.X_OK):
        print("SKIP: exporter binary %s not built" % args.exporter)
        return SKIP
    prometheus = shutil.which("prometheus")
    if not prometheus:
        print("SKIP: prometheus not installed (Debian package prometheus)")
        return SKIP
    if not os.path.exists(args.rules):
        print("SKIP: rules file %s missing" % args.rules)
        return SKIP
    try:
        rules = rule_inputs(args.rules)
    except ValueError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1

    d = Daemons()
    try:
        failures = run_live(args, d, prometheus, rules)
    except RuntimeError as e:
        failures = [str(e)]
        for name in ("exporter", "prometheus"):
            print("--- %s log ---\n%s" % (name, d.log(name)), file=sys.stderr)
    finally:
        d.stop(args.keep)

    for f in failures:
        print("FAIL " + f, file=sys.stderr)
    if failures:
        return 1
    print("test_dashboards_live_exporter: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
