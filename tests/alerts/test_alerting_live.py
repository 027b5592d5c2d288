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
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import ctypes
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import lint_alerts  # noqa: E402  (the small YAML reader)

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


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
            cols = [len(l.split()) - 1 for l in f if re.match(r"^cpu\d+\s", l)]
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
        ncpu = sum(1 for l in lines if re.match(r"^cpu\d+\s", l))
        out = []
        for l in lines:
            m = re.match(r"^(cpu\d*)\s+(.*)$", l)
            if m:
                vals = [int(x) for x in m.group(2).split()]
                mult = ncpu if m.group(1) == "cpu" else 1
                for idx, add in self.tick.items():
                    vals[idx - 1] += add * mult
                l = m.group(1) + (" " if m.group(1) != "cpu" else "  ") + " ".join(map(str, vals))
            out.append(l)
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
LABEL_RE = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def parse_samples(text):
    """[(metric name, {label: value})] of every sample line of an exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
        if m:
            out.append((m.group(1), dict(LABEL_RE.findall(m.group(3) or ""))))
    return out


def metric_names_with_samples(text):
    return {name for name, _ in parse_samples(text)}


def unmet_selectors(expr, samples):
    """Selectors of hostiso_* metrics in a PromQL expression that no sample of
    the exposition satisfies (equality matchers only; others are ignored)."""
    unmet = []
    for name, body in re.findall(r"\b(hostiso_[a-z_]+)\b(\{[^}]*\})?", expr):
        want = dict(LABEL_RE.findall(body)) if body else {}
        eq = {k: v for k, v in want.items() if re.search(r'\b%s\s*=\s*"' % k, body)
              and not re.search(r'\b%s\s*(=~|!=|!~)' % k, body)}
        if not any(n == name and all(l.get(k) == v for k, v in eq.items()) for n, l in samples):
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
        cfg = lint_alerts.load_yaml(f.read())

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
            {"url": "http://127.0.0.1:%d/%s" % (webhook_port, r["name"]), "send_resolved": False}]}
        for r in cfg["receivers"]]
    return cfg


# --------------------------------------------------------------------------- the test
def run(exporter, fixture):
    tmp = tempfile.mkdtemp(prefix="hostiso-alerting-")
    procs = Procs(tmp)
    webhook = Webhook()
    ticker = None
    busy = None
    ok = False
    try:
        # ---- fixture copy with moving counters
        fx = os.path.join(tmp, "root")
        shutil.copytree(fixture, fx, symlinks=True)
        stat_path = os.path.join(fx, "proc", "stat")
        if not os.path.isfile(stat_path):
            raise TestFailure("fixture has no proc/stat: %s" % stat_path)
        ticker = StatTicker(stat_path)
        ticker.tick_once()
        ticker.start()

        # ---- exporter on the fixture
        ex_port = free_port()
        procs.start("exporter-fixture", [
            exporter, "--web.listen-address=127.0.0.1:%d" % ex_port,
            "--path.procfs=" + os.path.join(fx, "proc"),
            "--path.sysfs=" + os.path.join(fx, "sys"),
            "--nova.config=" + os.path.join(fx, "nova.conf"),
            # the fixture's CPUs are not this machine's: do not pin ourselves to them
            "--no-runtime.confine-to-host-cpus"])
        metrics_url = "http://127.0.0.1:%d/metrics" % ex_port

        def get_metrics():
            procs.check_alive()
            st, body = http_get(metrics_url)
            return body if st == 200 and "hostiso_" in body else None

        metrics = wait_for("exporter /metrics on the fixture", get_metrics)
        samples = parse_samples(metrics)
        exposed = metric_names_with_samples(metrics)
        log("exporter (fixture): %d metric names with samples" % len(exposed))

        # ---- second exporter on the real host (census part). Whether the census
        # collector exists is decided from that exporter's own /metrics.
        real_port = None
        census_skip = None
        if (os.cpu_count() or 1) < 2 or 1 not in os.sched_getaffinity(0):
            census_skip = "needs CPU 1 to exist and be usable by this process"
        elif not shutil.which("taskset"):
            census_skip = "taskset not found (package util-linux)"
        if census_skip is None:
            port = free_port()
            procs.start("exporter-realhost", [
                exporter, "--web.listen-address=127.0.0.1:%d" % port,
                "--isolation.guest-cpus=1", "--violations.max-info=1000"])

            def real_metrics():
                procs.check_alive()
                st, body = http_get("http://127.0.0.1:%d/metrics" % port)
                return body if st == 200 and "hostiso_" in body else None

            real_exposed = metric_names_with_samples(wait_for("exporter /metrics on the real host",
                                                              real_metrics))
            if "hostiso_census_tasks" not in real_exposed | exposed:
                census_skip = "the exporter has no census collector (no hostiso_census_tasks in /metrics)"
            else:
                real_port = port
                # a distinctive comm (the kernel takes it from the exec'd file
                # name), so no other busy `sh` on this machine can pass for ours
                busy_sh = os.path.join(tmp, BUSY_COMM)
                os.symlink(shutil.which("sh"), busy_sh)
                busy = subprocess.Popen(["taskset", "-c", "1", busy_sh, "-c", "while :; do :; done"],
                                        start_new_session=True, preexec_fn=_die_with_parent)

        # ---- Alertmanager + webhook
        webhook.start()
        am_port = free_port()
        am_cfg = os.path.join(tmp, "alertmanager.yml")
        with open(am_cfg, "w") as f:
            json.dump(webhook_alertmanager_config(webhook.port), f, indent=1)
        chk = subprocess.run(["amtool", "check-config", am_cfg], capture_output=True, text=True) \
            if shutil.which("amtool") else None
        if chk is not None and chk.returncode != 0:
            raise TestFailure("generated Alertmanager config is invalid:\n" + chk.stdout + chk.stderr)
        os.mkdir(os.path.join(tmp, "am-data"))
        procs.start("alertmanager", [
            "prometheus-alertmanager", "--config.file=" + am_cfg,
            "--storage.path=" + os.path.join(tmp, "am-data"),
            "--web.listen-address=127.0.0.1:%d" % am_port,
            "--cluster.listen-address="])

        # ---- Prometheus
        prom_port = free_port()
        with open(RULES) as f:
            rules_text = f.read()
        with open(os.path.join(tmp, "hostiso.rules.yml"), "w") as f:
            f.write(shortened_rules(rules_text))
        targets = ["127.0.0.1:%d" % ex_port] + (["127.0.0.1:%d" % real_port] if real_port else [])
        prom_cfg = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": ["hostiso.rules.yml"],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:%d" % am_port]}]}]},
            "scrape_configs": [{"job_name": "hostiso", "static_configs": [{"targets": targets}]}],
        }
        prom_cfg_path = os.path.join(tmp, "prometheus.yml")
        with open(prom_cfg_path, "w") as f:
            json.dump(prom_cfg, f, indent=1)
        chk = subprocess.run(["promtool", "check", "config", prom_cfg_path], capture_output=True, text=True) \
            if shutil.which("promtool") else None
        if chk is not None and chk.returncode != 0:
            raise TestFailure("generated Prometheus config is invalid:\n" + chk.stdout + chk.stderr)
        procs.start("prometheus", [
            "prometheus", "--config.file=" + prom_cfg_path,
            "--storage.tsdb.path=" + os.path.join(tmp, "prom-data"),
            "--web.listen-address=127.0.0.1:%d" % prom_port,
            "--log.level=warn"])

        def ready(port):
            procs.check_alive()
            return http_get("http://127.0.0.1:%d/-/ready" % port)[0] == 200

        wait_for("Alertmanager ready", lambda: ready(am_port))
        wait_for("Prometheus ready", lambda: ready(prom_port))
        fixture_inst = "127.0.0.1:%d" % ex_port
        wait_for("Prometheus scraping the fixture exporter",
                 lambda: prom_query(prom_port, 'up{job="hostiso",instance="%s"} == 1' % fixture_inst))

        failures = []

        # ---- (a) recording rules
        with open(RULES) as f:
            groups = lint_alerts.load_yaml(f.read())["groups"]
        records = [(r["record"], r["expr"]) for g in groups for r in g["rules"] if "record" in r]
        skipped = []
        for name, expr in records:
            missing = unmet_selectors(expr, samples)
            if missing:
                skipped.append(name)
                log("SKIPPED recording rule %s: the exporter exposes no sample of %s" % (
                    name, ", ".join(missing)))
                continue
            sel = '%s{instance="%s"}' % (name, fixture_inst)
            try:
                res = wait_for("data for " + name, lambda: prom_query(prom_port, sel))
            except TestFailure as e:
                failures.append(str(e))
                log("FAIL recording rule %s: no data" % name)
                continue
            log("PASS recording rule %s: %d series, e.g. %s = %s" % (
                name, len(res), res[0]["metric"], res[0]["value"][1]))

        # every rule must evaluate without error on real exporter output (e.g. a
        # many-to-many match in a join shows up here, not in promtool tests)
        def rules_evaluated():
            _, body = http_get("http://127.0.0.1:%d/api/v1/rules" % prom_port)
            rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
            if any(r.get("health") == "unknown" for r in rules):
                return None
            return rules

        try:
            all_rules = wait_for("every rule evaluated once", rules_evaluated)
            bad = [(r["name"], r.get("lastError")) for r in all_rules if r.get("health") != "ok"]
            if bad:
                failures.append("rules failing to evaluate: %s" % bad)
                log("FAIL rule health: %s" % bad)
            else:
                log("PASS rule health: %d rules evaluate without error" % len(all_rules))
        except TestFailure as e:
            failures.append(str(e))

        # the CPU ratios must reflect the counters the ticker feeds in
        def close(v, want, tol=0.02):
            return abs(float(v) - want) <= tol

        def cpu_ratios_settle():
            r1 = prom_query(prom_port, 'instance:hostiso_cpu_steal:ratio_rate5m{instance="%s"}' % fixture_inst)
            r2 = prom_query(prom_port, 'instance_cpu:hostiso_cpu_steal:ratio_rate5m{instance="%s"}' % fixture_inst)
            r3 = prom_query(prom_port, 'instance_role_consumer:hostiso_cpu_seconds:share_rate5m{instance="%s"}'
                            % fixture_inst)
            if not (r1 and r2 and r3):
                return None
            bad = [("host-wide steal", r1[0]["value"][1], 0.1)] if not close(r1[0]["value"][1], 0.1) else []
            bad += [("cpu %s steal" % s["metric"].get("cpu"), s["value"][1], 0.1)
                    for s in r2 if not close(s["value"][1], 0.1)]
            bad += [("role %s consumer %s" % (s["metric"].get("role"), s["metric"].get("consumer")),
                     s["value"][1], ticker.expected_share.get(s["metric"].get("consumer"), -1))
                    for s in r3 if not close(s["value"][1], ticker.expected_share.get(s["metric"].get("consumer"), -1))]
            if bad:
                cpu_ratios_settle.last = bad
                return None
            return (r1, r2, r3)

        cpu_ratios_settle.last = None
        if "hostiso_cpu_seconds_total" in exposed and "hostiso_cpu_role" in exposed:
            try:
                r1, r2, r3 = wait_for("CPU ratios to match the fed counters", cpu_ratios_settle)
                roles = sorted({s["metric"]["role"] for s in r3})
                log("PASS cpu ratios: host-wide steal %s, %d per-CPU steal series at 0.1, roles %s "
                    "with consumer shares %s" % (r1[0]["value"][1], len(r2), roles,
                                                 ticker.expected_share))
            except TestFailure as e:
                failures.append("%s; mismatches: %s" % (e, cpu_ratios_settle.last))
                log("FAIL cpu ratios: %s" % cpu_ratios_settle.last)

        # ---- (b) HostisoIsolcpusMismatch: Prometheus -> Alertmanager -> webhook
        viol = prom_query(prom_port, 'hostiso_violating_subjects{kind="isolcpus_mismatch",instance="%s"}' % fixture_inst)
        if not viol or float(viol[0]["value"][1]) <= 0:
            failures.append("fixture shows no isolcpus_mismatch violation (hostiso_violating_subjects=%s)" % viol)
        want_subjects = {s["metric"]["subject"] for s in prom_query(
            prom_port, 'hostiso_violation_info{kind="isolcpus_mismatch",instance="%s"}' % fixture_inst)}
        log("isolcpus_mismatch subjects exposed: %s" % sorted(want_subjects))

        def firing_in_prom():
            procs.check_alive()
            got = [a for a in prom_alerts(prom_port)
                   if a["labels"].get("alertname") == "HostisoIsolcpusMismatch"
                   and a["labels"].get("instance") == fixture_inst and a["state"] == "firing"]
            return got if {a["labels"].get("subject") for a in got} >= want_subjects and got else None

        try:
            prom_firing = wait_for("HostisoIsolcpusMismatch firing in Prometheus", firing_in_prom)
            for a in prom_firing:
                lab = a["labels"]
                if lab.get("severity") != "warning" or lab.get("kind") != "isolcpus_mismatch" \
                        or not lab.get("cpus") or lab.get("job") != "hostiso":
                    failures.append("unexpected labels on firing alert in Prometheus: %s" % lab)
                if a["annotations"].get("runbook_url", "").split("#")[-1] != "hostisoisolcpusmismatch":
                    failures.append("runbook_url of the firing alert: %s" % a["annotations"])
            log("PASS Prometheus: HostisoIsolcpusMismatch firing for subjects %s"
                % sorted(a["labels"]["subject"] for a in prom_firing))

            def in_am():
                q = urllib.parse.urlencode({"filter": 'alertname="HostisoIsolcpusMismatch"'})
                _, body = http_get("http://127.0.0.1:%d/api/v2/alerts?%s" % (am_port, q))
                got = [a for a in json.loads(body) if a["labels"].get("instance") == fixture_inst]
                return got if {a["labels"].get("subject") for a in got} >= want_subjects and got else None

            am_alerts = wait_for("HostisoIsolcpusMismatch in Alertmanager /api/v2/alerts", in_am)
            recv = {r["name"] for a in am_alerts for r in a.get("receivers", [])}
            if recv != {"ticket"}:
                failures.append("Alertmanager routed HostisoIsolcpusMismatch to %s, want ticket" % sorted(recv))
            log("PASS Alertmanager: %d HostisoIsolcpusMismatch alerts, receivers %s"
                % (len(am_alerts), sorted(recv)))

            def at_webhook():
                got = [(p, a) for p, a in webhook.alerts()
                       if a["labels"].get("alertname") == "HostisoIsolcpusMismatch"
                       and a["labels"].get("instance") == fixture_inst]
                return got if {a["labels"].get("subject") for _, a in got} >= want_subjects and got else None

            hooks = wait_for("HostisoIsolcpusMismatch at the webhook receiver", at_webhook)
            for path, a in hooks:
                if path != "/ticket":
                    failures.append("webhook got HostisoIsolcpusMismatch on %s, want /ticket" % path)
                if a["labels"].get("severity") != "warning" or a["labels"].get("subject") not in want_subjects:
                    failures.append("webhook alert labels unexpected: %s" % a["labels"])
                if a.get("status") != "firing":
                    failures.append("webhook alert status %s, want firing" % a.get("status"))
            log("PASS webhook: %d deliveries on %s with subjects %s, severity %s" % (
                len(hooks), sorted({p for p, _ in hooks}),
                sorted({a["labels"]["subject"] for _, a in hooks}),
                sorted({a["labels"]["severity"] for _, a in hooks})))
        except TestFailure as e:
            failures.append(str(e))
            log("FAIL isolcpus alert chain: %s" % e)

        # ---- (c) census: a host task on a guest CPU of the real host
        if census_skip:
            log("SKIP HostisoHostTaskOnGuestCpu live check: %s" % census_skip)
        else:
            real_inst = "127.0.0.1:%d" % real_port

            def host_task_firing():
                procs.check_alive()
                got = [a for a in prom_alerts(prom_port)
                       if a["labels"].get("alertname") == "HostisoHostTaskOnGuestCpu"
                       and a["labels"].get("instance") == real_inst and a["state"] == "firing"]
                return [a for a in got if a["labels"].get("subject") == "comm " + BUSY_COMM] or None

            try:
                got = wait_for("HostisoHostTaskOnGuestCpu firing for 'comm %s' on the real host" % BUSY_COMM,
                               host_task_firing)
                if busy.poll() is not None:
                    failures.append("the busy process exited early (status %s)" % busy.returncode)
                lab = got[0]["labels"]
                if lab.get("severity") != "warning" or "1" not in re.split(r"[,-]", lab.get("cpus", "")):
                    failures.append("HostisoHostTaskOnGuestCpu labels unexpected: %s" % lab)
                log("PASS census: HostisoHostTaskOnGuestCpu firing: %s" % lab)
            except TestFailure as e:
                subj = prom_query(prom_port, 'hostiso_violation_info{kind="host_task_on_guest_cpu",instance="%s"}'
                                  % real_inst)
                failures.append("%s; host_task_on_guest_cpu subjects: %s" % (
                    e, sorted(s["metric"].get("subject") for s in subj)))
                log("FAIL census: %s" % e)

        if ticker.error:
            failures.append("the /proc/stat ticker failed: %s" % ticker.error)
        if failures:
            log("\nFAILURES:")
            for f in failures:
                log("  - " + f)
            return FAIL
        log("\nPASS (%d recording rules checked, %d skipped: %s)" % (
            len(records) - len(skipped), len(skipped), ", ".join(skipped) or "none"))
        ok = True
        return 0
    except TestFailure as e:
        log("FAIL: %s" % e)
        return FAIL
    finally:
        if busy is not None:
            try:
                os.killpg(busy.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            busy.wait(timeout=5)
        if ticker is not None:
            ticker.stop.set()
            ticker.join(timeout=5)
        procs.stop_all()
        if not ok:
            procs.dump_logs()
        webhook.stop()
        if os.environ.get("HOSTISO_KEEP_TMP"):
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


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
