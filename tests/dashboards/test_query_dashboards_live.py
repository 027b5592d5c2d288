#!/usr/bin/env python3
"""Self-test of query_dashboards_live.py against a real Prometheus.

Starts Debian's `prometheus` on 127.0.0.1 (free port, temp data dir) scraping
itself, then checks that the live checker
  * runs the committed dashboards' queries without any rejection (they return
    no data: no exporter is scraped here) and exits 0;
  * exits 1 for a dashboard query Prometheus rejects (HTTP 400) and for one
    that fails at evaluation (HTTP 422, many-to-many join);
  * exits 1 when --require-data matches a query that returned nothing;
  * exits 2 when Prometheus is unreachable.
Prometheus is stopped in all cases. Exit 77 (SKIP) if `prometheus` is missing.
python3 stdlib only.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import query_dashboards_live as live  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from exporter_harness import free_port  # noqa: E402

SCRIPT = os.path.join(HERE, "query_dashboards_live.py")
DS = {"type": "prometheus", "uid": "${datasource}"}
PROM = None  # (url, process, tmpdir)


def start_prometheus():
    binary = shutil.which("prometheus")
    if not binary:
        print("SKIP: prometheus binary not found (scripts/install-deps.sh test installs "
              "the Debian package prometheus)")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="hostiso-dash-live-")
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: self\n"
                "    static_configs: [{targets: ['127.0.0.1:%d']}]\n" % port)
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    proc = subprocess.Popen([binary, "--config.file=" + cfg,
                             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                             "--web.listen-address=127.0.0.1:%d" % port],
                            stdout=log, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
    if proc.poll() is not None:
        log.close()
        print(open(os.path.join(tmp, "prometheus.log")).read()[-2000:], file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError("prometheus did not start")
    # wait for the self-scrape so that `up` has a sample
    deadline = time.time() + 15
    while time.time() < deadline:
        status, n, _ = live.instant_query(url, "up")
        if n:
            break
        time.sleep(0.5)
    return url, proc, tmp


def stop_prometheus():
    global PROM
    if PROM:
        _, proc, tmp = PROM
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        PROM = None


def run(*args):
    r = subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def write_dashboard(directory, exprs):
    panels = []
    for i, e in enumerate(exprs):
        panels.append({"id": i + 1, "type": "timeseries", "title": "p%d" % (i + 1),
                       "datasource": dict(DS),
                       "gridPos": {"h": 8, "w": 12, "x": 0, "y": 8 * i},
                       "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
                       "targets": [{"refId": "A", "datasource": dict(DS), "expr": e}]})
    with open(os.path.join(directory, "test.json"), "w") as f:
        json.dump({"uid": "t", "title": "t", "panels": panels,
                   "templating": {"list": []}}, f)


class LiveQueries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.url = PROM[0]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hostiso-dash-live-d-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_committed_dashboards_are_valid_queries(self):
        results = live.run_queries(self.url)
        self.assertGreater(len(results), 50)
        bad = [r.as_dict() for r in results if not r.ok]
        self.assertEqual(bad, [])
        rc, out = run(self.url, "--quiet")
        self.assertEqual(rc, 0, out)
        self.assertIn("0 rejected", out)

    def test_data_and_empty_are_reported(self):
        write_dashboard(self.dir, ['up{job=~"$job",instance=~"$instance"}',
                                   'hostiso_build_info{job=~"$job"}'])
        results = live.run_queries(self.url, self.dir)
        self.assertEqual([r.status for r in results], ["data", "empty"])
        rc, out = run(self.url, "--dashboards", self.dir)
        self.assertEqual(rc, 0, out)
        self.assertIn("1 queries returned no data", out)
        self.assertIn("hostiso_build_info", out)

    def test_require_data(self):
        write_dashboard(self.dir, ['hostiso_build_info{job=~"$job"}'])
        rc, out = run(self.url, "--dashboards", self.dir, "--require-data", "build_info")
        self.assertEqual(rc, 1, out)
        self.assertIn("required by --require-data", out)

    def test_invalid_query_fails(self):
        write_dashboard(self.dir, ['up{job=~"$job"}',
                                   'sum(rate(up{job=~"$job"}[$__rate_interval])'])
        results = live.run_queries(self.url, self.dir)
        self.assertEqual(results[1].status, "invalid", results[1].error)
        self.assertIn("HTTP 400", results[1].error)
        rc, out = run(self.url, "--dashboards", self.dir)
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL", out)

    def test_evaluation_error_fails(self):
        # several series on each side and no label to tell them apart: Prometheus
        # refuses the many-to-many join at evaluation time (HTTP 422)
        write_dashboard(self.dir, ['prometheus_http_requests_total * on () group_left '
                                   'prometheus_http_requests_total'])
        deadline = time.time() + 10
        while time.time() < deadline:
            _, n, _ = live.instant_query(self.url, "prometheus_http_requests_total")
            if n >= 2:
                break
            time.sleep(0.5)
        rc, out = run(self.url, "--dashboards", self.dir)
        self.assertEqual(rc, 1, out)
        self.assertIn("HTTP 422", out)

    def test_unreachable(self):
        rc, out = run("http://127.0.0.1:%d" % free_port())
        self.assertEqual(rc, 2, out)
        self.assertIn("unreachable", out)


if __name__ == "__main__":
    PROM = start_prometheus()
    try:
        prog = unittest.main(exit=False, verbosity=2)
        ok = prog.result.wasSuccessful()
    finally:
        stop_prometheus()
    sys.exit(0 if ok else 1)
