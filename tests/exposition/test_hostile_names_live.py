#!/usr/bin/env python3
"""Live test: a hostile process name cannot blind the host's monitoring (issue 11).

A process whose name (comm, set with prctl(PR_SET_NAME)) holds invalid UTF-8
(bytes ff fe), a quote, a backslash and a newline spins on guest-role CPU 1.
The exporter runs with --isolation.guest-cpus=1 --census.interval=1; a real
Prometheus, started here on 127.0.0.1 with its own data directory and a 1 s
scrape interval, scrapes it. Checked: up == 1 and no scrape error, the
intrusion series for that process is stored with U+FFFD for the invalid bytes
and the other characters intact, and the exposition passes
`promtool check metrics` and prometheus_client's text parser.
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import exporter_harness as h  # noqa: E402

PR_SET_NAME = 15
# 12 bytes (comm holds 15): ff fe, a quote, a backslash, a newline, "hostiso".
HOSTILE_COMM = b'\xff\xfe"\\\nhostiso'
EXPECTED_COMM = HOSTILE_COMM.decode("utf-8", errors="replace")  # U+FFFD U+FFFD ...


def spin_with_hostile_name(ready_fd):
    """Child process body: renames itself, pins itself to CPU 1 and spins."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(HOSTILE_COMM), 0, 0, 0) != 0:
        os._exit(3)
    os.sched_setaffinity(0, {1})
    os.write(ready_fd, b"x")
    os.close(ready_fd)
    while True:
        pass


def start_spinner():
    """(pid, comm as the kernel shows it) once the child has renamed itself."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            spin_with_hostile_name(ready_w)
        finally:
            os._exit(4)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    with open("/proc/%d/comm" % pid, "rb") as f:
        comm = f.read()
    return pid, comm


def prometheus_get(port, path, **params):
    url = "http://127.0.0.1:%d%s?%s" % (port, path, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())["data"]


def start_prometheus(tmp, exporter_port):
    port = h.free_port()
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                "scrape_configs:\n"
                "  - job_name: hostiso\n"
                "    static_configs: [{targets: ['127.0.0.1:%d']}]\n" % exporter_port)
    proc = subprocess.Popen(
        ["prometheus", "--config.file=" + config,
         "--storage.tsdb.path=" + os.path.join(tmp, "data"),
         "--web.listen-address=127.0.0.1:%d" % port],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
    return proc, port


def wait_for_series(prom_port, deadline):
    """(target health, last error, stored comm values) once the series is there."""
    health, error, comms = "unknown", "", []
    while time.monotonic() < deadline:
        try:
            targets = prometheus_get(prom_port, "/api/v1/targets")["activeTargets"]
            if targets:
                health, error = targets[0]["health"], targets[0]["lastError"]
            result = prometheus_get(prom_port, "/api/v1/query",
                                    query='hostiso_intrusion_seconds_total{cpu="1"}')["result"]
            comms = [r["metric"].get("comm") for r in result]
            if health == "up" and EXPECTED_COMM in comms:
                break
        except (urllib.error.URLError, ConnectionError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    return health, error, comms


def check_exposition(c, text):
    ran, problems = h.promtool_check(text)
    c.check(ran, "promtool is installed")
    c.check(ran and problems == "", "promtool check metrics passes: %s" % problems)
    from prometheus_client.parser import text_string_to_metric_families
    try:
        samples = [s for fam in text_string_to_metric_families(text) for s in fam.samples]
    except Exception as e:  # any parse error is the finding
        c.check(False, "prometheus_client parses the exposition: %s" % e)
        return
    found = [s for s in samples if s.name == "hostiso_intrusion_seconds_total"
             and s.labels.get("comm") == EXPECTED_COMM]
    c.check(len(found) == 1, "prometheus_client reads comm=%r once (found %d)"
            % (EXPECTED_COMM, len(found)))


def run(c, exporter_bin, tmp, procs):
    pid, comm = start_spinner()
    procs.append(pid)
    c.check(comm == HOSTILE_COMM + b"\n", "the spinner's comm is %r (is %r)" % (HOSTILE_COMM, comm))
    with h.Exporter(exporter_bin, ["--isolation.guest-cpus=1", "--census.interval=1",
                                   "--no-collector.libvirt"]) as ex:
        prom, prom_port = start_prometheus(tmp, ex.port)
        procs.append(prom)
        health, error, comms = wait_for_series(prom_port, time.monotonic() + 60)
        print("Prometheus: target %s, last error %r, comm values on cpu 1: %r"
              % (health, error, comms))
        c.check(health == "up" and error == "",
                "Prometheus scrapes the exporter: health %s, last error %r" % (health, error))
        up = prometheus_get(prom_port, "/api/v1/query", query="up")["result"]
        c.check([r["value"][1] for r in up] == ["1"], "up == 1 (have %s)" % up)
        c.check(EXPECTED_COMM in comms,
                "Prometheus stored intrusion{cpu=\"1\",comm=%r} (has %r)" % (EXPECTED_COMM, comms))
        url = "http://127.0.0.1:%d/metrics" % ex.port
        with urllib.request.urlopen(url, timeout=10) as r:
            raw = r.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            c.check(False, "the exposition is UTF-8: %s" % e)
            return
        escaped = '\ufffd\ufffd\\"\\\\\\nhostiso'
        c.check('cpu="1",comm="%s"}' % escaped in text or 'comm="%s",cpu="1"}' % escaped in text,
                "the exposition has comm=\"%s\"" % escaped)
        check_exposition(c, text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (like the other live census tests)")
        return h.SKIP
    if not {0, 1} <= os.sched_getaffinity(0):
        print("SKIP: needs CPUs 0 and 1 (have %s)" % sorted(os.sched_getaffinity(0)))
        return h.SKIP
    missing = [b for b in ("prometheus", "promtool") if shutil.which(b) is None]
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        # Debian's python3-prometheus-client is installed for the system
        # interpreter; PATH may name another python3 (pyenv).
        if sys.executable != "/usr/bin/python3" and os.access("/usr/bin/python3", os.X_OK):
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        missing.append("python3-prometheus-client (for %s)" % sys.executable)
    if missing:
        print("SKIP: not installed: %s (scripts/install-deps.sh test)" % ", ".join(missing))
        return h.SKIP
    c = h.Checker()
    tmp = tempfile.mkdtemp(prefix="hostiso-hostile-names.")
    procs = []
    try:
        run(c, args.exporter, tmp, procs)
    finally:
        for p in reversed(procs):
            if isinstance(p, int):
                os.kill(p, 9)
                os.waitpid(p, 0)
            else:
                h.stop_process(p)
        if c.failures:
            for log in ("prometheus.log",):
                path = os.path.join(tmp, log)
                if os.path.exists(path):
                    print("--- %s (tail)" % log)
                    print("".join(open(path).readlines()[-20:]))
        shutil.rmtree(tmp, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
