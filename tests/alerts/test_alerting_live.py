#!/usr/bin/env python3
"""Live end-to-end test of the alerting chain, with real daemons:

  hostiso_exporter (fixture root tests/fixtures/smt_large, copied to a temp dir
  whose /proc/stat counters this test advances) -> Prometheus (rule files of
  alerts/ with `for:` shortened to 2s, 1s scrape and evaluation) -> Alertmanager
  (routing of alerts/alertmanager.example.yml, receivers replaced by webhooks)
  -> a webhook receiver run by this test.

Asserts:
 (a) every recording rule whose input metrics the exporter exposes returns data
     through Prometheus's HTTP API, and the CPU ratios match the counters this
     test feeds in; rules over metrics the exporter does not expose are listed
     as SKIPPED by name;
 (b) HostisoIsolcpusMismatch fires in Prometheus, reaches Alertmanager
     (/api/v2/alerts) and is delivered to the webhook of the `ticket` receiver
     (severity warning) with its subject and severity labels;
 (c) if the exporter has the census collector (hostiso_census_tasks), a second
     exporter on the real host with --isolation.guest-cpus=1 and a busy process
     pinned to CPU 1 makes HostisoHostTaskOnGuestCpu fire; otherwise SKIP.

Usage: test_alerting_live.py PATH/TO/hostiso_exporter [FIXTURE_ROOT]
       (FIXTURE_ROOT defaults to tests/fixtures/smt_large; it needs proc/stat,
       sys/ and nova.conf, and an isolcpus_mismatch violation)
Set HOSTISO_KEEP_TMP=1 to keep the temp dir (logs, configs) for debugging.
Exit: 0 pass, 1 fail, 77 skip (a binary missing). Every daemon binds 127.0.0.1,
uses a temp data dir, and is stopped in `finally`.
"""
import ctypes
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import yaml  # Debian: python3-yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import exporter_harness as h  # noqa: E402  (free_port and the exposition parser)

RULES = os.path.join(ROOT, "alerts", "hostiso.rules.yml")
AM_EXAMPLE = os.path.join(ROOT, "alerts", "alertmanager.example.yml")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "smt_large")
WAIT = 60.0  # upper bound of every single wait, seconds
BUDGET = 240.0  # upper bound of all waits together (CTest TIMEOUT must exceed it)
_deadline = [time.monotonic() + BUDGET]

SKIP, FAIL = 77, 1
BUSY_COMM = "hostiso-busy"  # comm of the busy process pinned to guest CPU 1


class TestFailure(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def http_get(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


def wait_for(what, fn, timeout=WAIT, interval=0.5):
    """Poll fn() until it returns a truthy value; raise TestFailure on timeout."""
    timeout = max(1.0, min(timeout, _deadline[0] - time.monotonic()))
    deadline = time.monotonic() + timeout
    last_err = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last_err = e
        time.sleep(interval)
    raise TestFailure("timed out after %.0fs waiting for %s%s" % (
        timeout, what, " (last error: %s)" % last_err if last_err else ""))


# --------------------------------------------------------------------------- daemons
def _die_with_parent():
    """preexec_fn: the child gets SIGKILL if this test process dies (e.g. killed
    by a CTest timeout before `finally` could run)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Procs:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []  # (name, Popen, logpath)

    def start(self, name, argv):
        logpath = os.path.join(self.tmp, name + ".log")
        logf = open(logpath, "wb")
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True,
                             preexec_fn=_die_with_parent)
        logf.close()
        self.procs.append((name, p, logpath))
        return p

    def check_alive(self):
        for name, p, logpath in self.procs:
            if p.poll() is not None:
                raise TestFailure("%s exited early with status %s; log:\n%s" % (
                    name, p.returncode, tail(logpath)))

    def stop_all(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, p, _ in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=5)

    def dump_logs(self):
        for name, _, logpath in self.procs:
            log("----- %s log (tail) -----\n%s" % (name, tail(logpath)))


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(no log: %s)" % e


# --------------------------------------------------------------------------- /proc/stat ticker
# Per tick and per CPU, in USER_HZ: user 20 (of which guest 10, if the file has
# the guest column), system 10, idle 15, steal 5. So, of all CPU time added:
# steal 10%, idle 30%, host (user - guest + system) 40% and guest 20% -- or,
# without a guest column (kernels before 2.6.24 layout, as in smt_large), host
# 60% and guest 0% -- for every CPU and every role.
class StatTicker(threading.Thread):
    def __init__(self, path, period=0.5):
        super().__init__(daemon=True)
        self.path, self.period = path, period
        self.stop = threading.Event()
        self.ticks = 0
        self.error = None
        with open(path) as f:
            cols = [len(line.split()) - 1 for line in f if re.match(r"^cpu\d+\s", line)]
        if not cols:
            raise TestFailure("no cpuN lines in %s" % path)
        self.has_guest = min(cols) >= 9
        self.tick = {1: 20, 3: 10, 4: 15, 8: 5}  # 1-based column -> jiffies
        if self.has_guest:
            self.tick[9] = 10
            self.expected_share = {"host": 0.4, "guest": 0.2, "steal": 0.1, "idle": 0.3}
        else:
            self.expected_share = {"host": 0.6, "guest": 0.0, "steal": 0.1, "idle": 0.3}

    def tick_once(self):
        with open(self.path) as f:
            lines = f.read().split("\n")
        ncpu = sum(1 for line in lines if re.match(r"^cpu\d+\s", line))
        out = []
        for line in lines:
            m = re.match(r"^(cpu\d*)\s+(.*)$", line)
            if m:
                vals = [int(x) for x in m.group(2).split()]
                mult = ncpu if m.group(1) == "cpu" else 1
                for idx, add in self.tick.items():
                    vals[idx - 1] += add * mult
                line = m.group(1) + (" " if m.group(1) != "cpu" else "  ") + \
                    " ".join(map(str, vals))
            out.append(line)
        tmp = self.path + ".tick"
        with open(tmp, "w") as f:
            f.write("\n".join(out))
        os.replace(tmp, self.path)  # atomic: the exporter never reads half a file
        self.ticks += 1

    def run(self):
        try:
            while not self.stop.is_set():
                self.tick_once()
                self.stop.wait(self.period)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e


# --------------------------------------------------------------------------- webhook
class Webhook:
    def __init__(self):
        self.received = []  # (path, payload)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsable": body.decode("utf-8", "replace")}
                with outer.lock:
                    outer.received.append((self.path, payload))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.started = False

    def start(self):
        self.thread.start()
        self.started = True

    def stop(self):
        if self.started:  # shutdown() would wait forever for a loop never started
            self.server.shutdown()
        self.server.server_close()

    def alerts(self):
        with self.lock:
            return [(path, a) for path, p in self.received for a in p.get("alerts", [])]


# --------------------------------------------------------------------------- helpers
PROMQL_MATCHER = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def metric_names_with_samples(samples):
    return {name for name, _, _ in samples}


def unmet_selectors(expr, samples):
    """Selectors of hostiso_* metrics in a PromQL expression that no sample of
    the exposition satisfies (equality matchers only; others are ignored)."""
    unmet = []
    for name, body in re.findall(r"\b(hostiso_[a-z_]+)\b(\{[^}]*\})?", expr):
        want = dict(PROMQL_MATCHER.findall(body)) if body else {}
        eq = {k: v for k, v in want.items() if re.search(r'\b%s\s*=\s*"' % k, body)
              and not re.search(r'\b%s\s*(=~|!=|!~)' % k, body)}
        if not any(n == name and all(labels.get(k) == v for k, v in eq.items())
                   for n, labels, _ in samples):
            sel = name + body
            if sel not in unmet:
                unmet.append(sel)
    return unmet


def prom_query(port, q):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q}))
    _, body = http_get(url)
    d = json.loads(body)
    if d.get("status") != "success":
        raise TestFailure("query %r failed: %s" % (q, body[:300]))
    return d["data"]["result"]


def prom_alerts(port):
    _, body = http_get("http://127.0.0.1:%d/api/v1/alerts" % port)
    return json.loads(body)["data"]["alerts"]


def shortened_rules(text):
    """The rule file with every `for:` at 2s (the live run cannot wait 15m)."""
    out, n = re.subn(r"(?m)^(\s+)for:\s*\S+\s*$", r"\g<1>for: 2s", text)
    if n == 0:
        raise TestFailure("no `for:` found to shorten in %s" % RULES)
    return out


def webhook_alertmanager_config(webhook_port):
    """alerts/alertmanager.example.yml with the same routing tree, but every
    receiver a webhook to http://127.0.0.1:PORT/<receiver name> and short group
    timers. Written as JSON (valid YAML)."""
    with open(AM_EXAMPLE) as f:
        cfg = yaml.safe_load(f)

    def shorten(route):
        for k in ("group_wait", "group_interval"):
            if k in route:
                route[k] = "1s"
        for sub in route.get("routes") or []:
            shorten(sub)

    cfg["route"].update({"group_wait": "1s", "group_interval": "1s"})
    shorten(cfg["route"])
    cfg["receivers"] = [
        {"name": r["name"], "webhook_configs": [
            {"url": "http://127.0.0.1:%d/%s" % (webhook_port, r["name"]),
             "send_resolved": False}]}
        for r in cfg["receivers"]]
    return cfg


# --------------------------------------------------------------------------- the test
def close(v, want, tol=0.02):
    return abs(float(v) - want) <= tol


def matching_subjects(alerts, want_subjects):
    """`alerts` if their subject labels cover `want_subjects` (and there is one), else None."""
    return alerts if {a["labels"].get("subject") for a in alerts} >= want_subjects and alerts \
        else None


class AlertingChain:
    """The daemons of one run (exporters, Alertmanager, Prometheus, webhook) and the
    failures found; each check_* method adds to `failures` and logs PASS/FAIL lines."""

    def __init__(self, exporter, fixture):
        self.exporter, self.fixture = exporter, fixture
        self.tmp = tempfile.mkdtemp(prefix="hostiso-alerting-")
        self.procs = Procs(self.tmp)
        self.webhook = Webhook()
        self.ticker = None
        self.busy = None
        self.failures = []
        self.census_skip = None
        self.real_port = None

    # ---- start the chain
    def start_fixture_exporter(self):
        """The exporter on a copy of the fixture whose /proc/stat counters move."""
        fx = os.path.join(self.tmp, "root")
        shutil.copytree(self.fixture, fx, symlinks=True)
        stat_path = os.path.join(fx, "proc", "stat")
        if not os.path.isfile(stat_path):
            raise TestFailure("fixture has no proc/stat: %s" % stat_path)
        self.ticker = StatTicker(stat_path)
        self.ticker.tick_once()
        self.ticker.start()
        self.ex_port = h.free_port()
        self.fixture_inst = "127.0.0.1:%d" % self.ex_port
        self.procs.start("exporter-fixture", [
            self.exporter, "--web.listen-address=127.0.0.1:%d" % self.ex_port,
            "--path.procfs=" + os.path.join(fx, "proc"),
            "--path.sysfs=" + os.path.join(fx, "sys"),
            "--nova.config=" + os.path.join(fx, "nova.conf"),
            # the fixture's CPUs are not this machine's: do not pin ourselves to them
            "--no-runtime.confine-to-host-cpus"])
        self.samples = h.parse(wait_for("exporter /metrics on the fixture",
                                        lambda: self.metrics_of(self.ex_port)))
        self.exposed = metric_names_with_samples(self.samples)
        log("exporter (fixture): %d metric names with samples" % len(self.exposed))

    def metrics_of(self, port):
        self.procs.check_alive()
        st, body = http_get("http://127.0.0.1:%d/metrics" % port)
        return body if st == 200 and "hostiso_" in body else None

    def start_real_host_exporter(self):
        """Second exporter on the real host (census part). Whether the census
        collector exists is decided from that exporter's own /metrics."""
        if (os.cpu_count() or 1) < 2 or 1 not in os.sched_getaffinity(0):
            self.census_skip = "needs CPU 1 to exist and be usable by this process"
        elif not shutil.which("taskset"):
            self.census_skip = "taskset not found (package util-linux)"
        if self.census_skip is not None:
            return
        port = h.free_port()
        self.procs.start("exporter-realhost", [
            self.exporter, "--web.listen-address=127.0.0.1:%d" % port,
            "--isolation.guest-cpus=1", "--violations.max-info=1000"])
        real_exposed = metric_names_with_samples(h.parse(wait_for(
            "exporter /metrics on the real host", lambda: self.metrics_of(port))))
        if "hostiso_census_tasks" not in real_exposed | self.exposed:
            self.census_skip = ("the exporter has no census collector "
                                "(no hostiso_census_tasks in /metrics)")
            return
        self.real_port = port
        # a distinctive comm (the kernel takes it from the exec'd file
        # name), so no other busy `sh` on this machine can pass for ours
        busy_sh = os.path.join(self.tmp, BUSY_COMM)
        os.symlink(shutil.which("sh"), busy_sh)
        self.busy = subprocess.Popen(["taskset", "-c", "1", busy_sh, "-c", "while :; do :; done"],
                                     start_new_session=True, preexec_fn=_die_with_parent)

    def start_alertmanager(self):
        """Alertmanager with the example's routing, every receiver our webhook."""
        self.webhook.start()
        self.am_port = h.free_port()
        am_cfg = os.path.join(self.tmp, "alertmanager.yml")
        with open(am_cfg, "w") as f:
            json.dump(webhook_alertmanager_config(self.webhook.port), f, indent=1)
        check_config("amtool", ["amtool", "check-config", am_cfg], "Alertmanager")
        os.mkdir(os.path.join(self.tmp, "am-data"))
        self.procs.start("alertmanager", [
            "prometheus-alertmanager", "--config.file=" + am_cfg,
            "--storage.path=" + os.path.join(self.tmp, "am-data"),
            "--web.listen-address=127.0.0.1:%d" % self.am_port,
            "--cluster.listen-address="])

    def start_prometheus(self):
        """Prometheus with the shortened rules, scraping both exporters every second."""
        self.prom_port = h.free_port()
        with open(RULES) as f:
            rules_text = f.read()
        with open(os.path.join(self.tmp, "hostiso.rules.yml"), "w") as f:
            f.write(shortened_rules(rules_text))
        targets = [self.fixture_inst] + \
            (["127.0.0.1:%d" % self.real_port] if self.real_port else [])
        am_target = "127.0.0.1:%d" % self.am_port
        prom_cfg = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": ["hostiso.rules.yml"],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am_target]}]}]},
            "scrape_configs": [{"job_name": "hostiso", "static_configs": [{"targets": targets}]}],
        }
        prom_cfg_path = os.path.join(self.tmp, "prometheus.yml")
        with open(prom_cfg_path, "w") as f:
            json.dump(prom_cfg, f, indent=1)
        check_config("promtool", ["promtool", "check", "config", prom_cfg_path], "Prometheus")
        self.procs.start("prometheus", [
            "prometheus", "--config.file=" + prom_cfg_path,
            "--storage.tsdb.path=" + os.path.join(self.tmp, "prom-data"),
            "--web.listen-address=127.0.0.1:%d" % self.prom_port,
            "--log.level=warn"])

    def wait_until_scraping(self):
        def ready(port):
            self.procs.check_alive()
            return http_get("http://127.0.0.1:%d/-/ready" % port)[0] == 200

        wait_for("Alertmanager ready", lambda: ready(self.am_port))
        wait_for("Prometheus ready", lambda: ready(self.prom_port))
        wait_for("Prometheus scraping the fixture exporter",
                 lambda: self.query('up{job="hostiso",instance="%s"} == 1' % self.fixture_inst))

    def query(self, q):
        return prom_query(self.prom_port, q)

    # ---- (a) recording rules
    def check_recording_rules(self):
        """Each recording rule whose inputs the exporter exposes returns data; the
        others are skipped by name. Returns (rules checked, names skipped)."""
        with open(RULES) as f:
            groups = yaml.safe_load(f)["groups"]
        records = [(r["record"], r["expr"]) for g in groups for r in g["rules"] if "record" in r]
        skipped = []
        for name, expr in records:
            missing = unmet_selectors(expr, self.samples)
            if missing:
                skipped.append(name)
                log("SKIPPED recording rule %s: the exporter exposes no sample of %s" % (
                    name, ", ".join(missing)))
                continue
            sel = '%s{instance="%s"}' % (name, self.fixture_inst)
            try:
                res = wait_for("data for " + name, lambda: self.query(sel))
            except TestFailure as e:
                self.failures.append(str(e))
                log("FAIL recording rule %s: no data" % name)
                continue
            log("PASS recording rule %s: %d series, e.g. %s = %s" % (
                name, len(res), res[0]["metric"], res[0]["value"][1]))
        return len(records) - len(skipped), skipped

    def check_rule_health(self):
        """Every rule evaluates without error on real exporter output (e.g. a
        many-to-many match in a join shows up here, not in promtool tests)."""
        def rules_evaluated():
            _, body = http_get("http://127.0.0.1:%d/api/v1/rules" % self.prom_port)
            rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
            if any(r.get("health") == "unknown" for r in rules):
                return None
            return rules

        try:
            all_rules = wait_for("every rule evaluated once", rules_evaluated)
            bad = [(r["name"], r.get("lastError")) for r in all_rules if r.get("health") != "ok"]
            if bad:
                self.failures.append("rules failing to evaluate: %s" % bad)
                log("FAIL rule health: %s" % bad)
            else:
                log("PASS rule health: %d rules evaluate without error" % len(all_rules))
        except TestFailure as e:
            self.failures.append(str(e))

    def cpu_ratio_mismatches(self, r1, r2, r3):
        """(what, got, want) of every CPU ratio that differs from the fed counters."""
        share = self.ticker.expected_share
        bad = [("host-wide steal", r1[0]["value"][1], 0.1)] \
            if not close(r1[0]["value"][1], 0.1) else []
        bad += [("cpu %s steal" % s["metric"].get("cpu"), s["value"][1], 0.1)
                for s in r2 if not close(s["value"][1], 0.1)]
        bad += [("role %s consumer %s" % (s["metric"].get("role"), s["metric"].get("consumer")),
                 s["value"][1], share.get(s["metric"].get("consumer"), -1))
                for s in r3 if not close(s["value"][1], share.get(s["metric"].get("consumer"), -1))]
        return bad

    def check_cpu_ratios(self):
        """The CPU ratios must reflect the counters the ticker feeds in."""
        if not ("hostiso_cpu_seconds_total" in self.exposed
                and "hostiso_cpu_role" in self.exposed):
            return
        inst = '{instance="%s"}' % self.fixture_inst
        last = [None]

        def cpu_ratios_settle():
            r1 = self.query("instance:hostiso_cpu_steal:ratio_rate5m" + inst)
            r2 = self.query("instance_cpu:hostiso_cpu_steal:ratio_rate5m" + inst)
            r3 = self.query("instance_role_consumer:hostiso_cpu_seconds:share_rate5m" + inst)
            if not (r1 and r2 and r3):
                return None
            last[0] = self.cpu_ratio_mismatches(r1, r2, r3)
            return None if last[0] else (r1, r2, r3)

        try:
            r1, r2, r3 = wait_for("CPU ratios to match the fed counters", cpu_ratios_settle)
            roles = sorted({s["metric"]["role"] for s in r3})
            log("PASS cpu ratios: host-wide steal %s, %d per-CPU steal series at 0.1, roles %s "
                "with consumer shares %s" % (r1[0]["value"][1], len(r2), roles,
                                             self.ticker.expected_share))
        except TestFailure as e:
            self.failures.append("%s; mismatches: %s" % (e, last[0]))
            log("FAIL cpu ratios: %s" % last[0])

    # ---- (b) HostisoIsolcpusMismatch: Prometheus -> Alertmanager -> webhook
    def isolcpus_subjects(self):
        """The subjects of the fixture's isolcpus_mismatch violations, from Prometheus."""
        viol = self.query('hostiso_violating_subjects{kind="isolcpus_mismatch",instance="%s"}'
                          % self.fixture_inst)
        if not viol or float(viol[0]["value"][1]) <= 0:
            self.failures.append("fixture shows no isolcpus_mismatch violation "
                                 "(hostiso_violating_subjects=%s)" % viol)
        want_subjects = {s["metric"]["subject"] for s in self.query(
            'hostiso_violation_info{kind="isolcpus_mismatch",instance="%s"}' % self.fixture_inst)}
        log("isolcpus_mismatch subjects exposed: %s" % sorted(want_subjects))
        return want_subjects

    def check_isolcpus_firing_in_prometheus(self, want_subjects):
        def firing_in_prom():
            self.procs.check_alive()
            got = [a for a in prom_alerts(self.prom_port)
                   if a["labels"].get("alertname") == "HostisoIsolcpusMismatch"
                   and a["labels"].get("instance") == self.fixture_inst
                   and a["state"] == "firing"]
            return matching_subjects(got, want_subjects)

        prom_firing = wait_for("HostisoIsolcpusMismatch firing in Prometheus", firing_in_prom)
        for a in prom_firing:
            lab = a["labels"]
            if lab.get("severity") != "warning" or lab.get("kind") != "isolcpus_mismatch" \
                    or not lab.get("cpus") or lab.get("job") != "hostiso":
                self.failures.append("unexpected labels on firing alert in Prometheus: %s" % lab)
            if a["annotations"].get("runbook_url", "").split("#")[-1] != "hostisoisolcpusmismatch":
                self.failures.append("runbook_url of the firing alert: %s" % a["annotations"])
        log("PASS Prometheus: HostisoIsolcpusMismatch firing for subjects %s"
            % sorted(a["labels"]["subject"] for a in prom_firing))

    def check_isolcpus_routed_by_alertmanager(self, want_subjects):
        def in_am():
            q = urllib.parse.urlencode({"filter": 'alertname="HostisoIsolcpusMismatch"'})
            _, body = http_get("http://127.0.0.1:%d/api/v2/alerts?%s" % (self.am_port, q))
            got = [a for a in json.loads(body) if a["labels"].get("instance") == self.fixture_inst]
            return matching_subjects(got, want_subjects)

        am_alerts = wait_for("HostisoIsolcpusMismatch in Alertmanager /api/v2/alerts", in_am)
        recv = {r["name"] for a in am_alerts for r in a.get("receivers", [])}
        if recv != {"ticket"}:
            self.failures.append("Alertmanager routed HostisoIsolcpusMismatch to %s, want ticket"
                                 % sorted(recv))
        log("PASS Alertmanager: %d HostisoIsolcpusMismatch alerts, receivers %s"
            % (len(am_alerts), sorted(recv)))

    def check_isolcpus_delivered_to_webhook(self, want_subjects):
        def at_webhook():
            got = [(p, a) for p, a in self.webhook.alerts()
                   if a["labels"].get("alertname") == "HostisoIsolcpusMismatch"
                   and a["labels"].get("instance") == self.fixture_inst]
            return got if {a["labels"].get("subject") for _, a in got} >= want_subjects and got \
                else None

        hooks = wait_for("HostisoIsolcpusMismatch at the webhook receiver", at_webhook)
        for path, a in hooks:
            if path != "/ticket":
                self.failures.append("webhook got HostisoIsolcpusMismatch on %s, want /ticket"
                                     % path)
            if a["labels"].get("severity") != "warning" \
                    or a["labels"].get("subject") not in want_subjects:
                self.failures.append("webhook alert labels unexpected: %s" % a["labels"])
            if a.get("status") != "firing":
                self.failures.append("webhook alert status %s, want firing" % a.get("status"))
        log("PASS webhook: %d deliveries on %s with subjects %s, severity %s" % (
            len(hooks), sorted({p for p, _ in hooks}),
            sorted({a["labels"]["subject"] for _, a in hooks}),
            sorted({a["labels"]["severity"] for _, a in hooks})))

    def check_isolcpus_alert_chain(self):
        want_subjects = self.isolcpus_subjects()
        try:
            self.check_isolcpus_firing_in_prometheus(want_subjects)
            self.check_isolcpus_routed_by_alertmanager(want_subjects)
            self.check_isolcpus_delivered_to_webhook(want_subjects)
        except TestFailure as e:
            self.failures.append(str(e))
            log("FAIL isolcpus alert chain: %s" % e)

    # ---- (c) census: a host task on a guest CPU of the real host
    def check_host_task_alert(self):
        if self.census_skip:
            log("SKIP HostisoHostTaskOnGuestCpu live check: %s" % self.census_skip)
            return
        real_inst = "127.0.0.1:%d" % self.real_port

        def host_task_firing():
            self.procs.check_alive()
            got = [a for a in prom_alerts(self.prom_port)
                   if a["labels"].get("alertname") == "HostisoHostTaskOnGuestCpu"
                   and a["labels"].get("instance") == real_inst and a["state"] == "firing"]
            return [a for a in got if a["labels"].get("subject") == "comm " + BUSY_COMM] or None

        try:
            got = wait_for("HostisoHostTaskOnGuestCpu firing for 'comm %s' on the real host"
                           % BUSY_COMM, host_task_firing)
            if self.busy.poll() is not None:
                self.failures.append("the busy process exited early (status %s)"
                                     % self.busy.returncode)
            lab = got[0]["labels"]
            if lab.get("severity") != "warning" \
                    or "1" not in re.split(r"[,-]", lab.get("cpus", "")):
                self.failures.append("HostisoHostTaskOnGuestCpu labels unexpected: %s" % lab)
            log("PASS census: HostisoHostTaskOnGuestCpu firing: %s" % lab)
        except TestFailure as e:
            subj = self.query('hostiso_violation_info{kind="host_task_on_guest_cpu",'
                              'instance="%s"}' % real_inst)
            self.failures.append("%s; host_task_on_guest_cpu subjects: %s" % (
                e, sorted(s["metric"].get("subject") for s in subj)))
            log("FAIL census: %s" % e)

    # ---- end
    def verdict(self, checked, skipped):
        if self.ticker.error:
            self.failures.append("the /proc/stat ticker failed: %s" % self.ticker.error)
        if self.failures:
            log("\nFAILURES:")
            for f in self.failures:
                log("  - " + f)
            return FAIL
        log("\nPASS (%d recording rules checked, %d skipped: %s)" % (
            checked, len(skipped), ", ".join(skipped) or "none"))
        return 0

    def stop(self, ok):
        if self.busy is not None:
            try:
                os.killpg(self.busy.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.busy.wait(timeout=5)
        if self.ticker is not None:
            self.ticker.stop.set()
            self.ticker.join(timeout=5)
        self.procs.stop_all()
        if not ok:
            self.procs.dump_logs()
        self.webhook.stop()
        if os.environ.get("HOSTISO_KEEP_TMP"):
            log("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def check_config(tool, argv, what):
    """Runs `argv` (a config check) when `tool` is installed; a failure ends the run."""
    if not shutil.which(tool):
        return
    chk = subprocess.run(argv, capture_output=True, text=True)
    if chk.returncode != 0:
        raise TestFailure("generated %s config is invalid:\n" % what + chk.stdout + chk.stderr)


def run(exporter, fixture):
    chain = AlertingChain(exporter, fixture)
    ok = False
    try:
        chain.start_fixture_exporter()
        chain.start_real_host_exporter()
        chain.start_alertmanager()
        chain.start_prometheus()
        chain.wait_until_scraping()
        checked, skipped = chain.check_recording_rules()
        chain.check_rule_health()
        chain.check_cpu_ratios()
        chain.check_isolcpus_alert_chain()
        chain.check_host_task_alert()
        status = chain.verdict(checked, skipped)
        ok = status == 0
        return status
    except TestFailure as e:
        log("FAIL: %s" % e)
        return FAIL
    finally:
        chain.stop(ok)


def main(argv):
    if len(argv) not in (2, 3):
        print("usage: %s PATH/TO/hostiso_exporter [FIXTURE_ROOT]" % argv[0], file=sys.stderr)
        return 2
    exporter = os.path.abspath(argv[1])
    fixture = os.path.abspath(argv[2]) if len(argv) == 3 else FIXTURE
    if not (os.path.isfile(exporter) and os.access(exporter, os.X_OK)):
        print("SKIP: exporter binary not found at %s (build it first)" % exporter)
        return SKIP
    for b in ("prometheus", "prometheus-alertmanager"):
        if not shutil.which(b):
            print("SKIP: %s not found (Debian packages prometheus, prometheus-alertmanager; "
                  "scripts/install-deps.sh test)" % b)
            return SKIP
    if not os.path.isdir(fixture):
        print("FAIL: fixture %s is missing (it is part of the repository)" % fixture)
        return FAIL
    # SIGTERM/SIGINT end the run through `finally`, which stops every daemon
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(FAIL))
    _deadline[0] = time.monotonic() + BUDGET
    return run(exporter, fixture)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
