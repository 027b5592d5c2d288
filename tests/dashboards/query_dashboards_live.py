#!/usr/bin/env python3
"""Runs every query of the hostiso dashboards against a live Prometheus.

Usage:
    query_dashboards_live.py PROMETHEUS_URL [--dashboards DIR] [--rate-interval 1m]
        [--job REGEX] [--instance REGEX] [--require-data REGEX ...] [--json] [--quiet]

Every target expression and annotation of dashboards/*.json is run as an
instant query (/api/v1/query) after substituting the Grafana variables:
$job and $instance -> the --job/--instance regex (default .*), $cluster -> .*,
$__rate_interval -> --rate-interval (default 1m; must cover at least two
scrapes), $datasource is irrelevant. Template variable queries
label_values(metric, label) run as count by (label) (metric).

Prints which queries return data and lists those that return none.
Exit status:
  0  every query is valid (empty results are reported, not failures, unless
     --require-data matches them);
  1  a query is rejected by Prometheus (HTTP 400 bad_data: it does not parse or
     type-check, or HTTP 422: it fails at evaluation, e.g. a many-to-many
     join), or a query matched by --require-data returned no data;
  2  Prometheus could not be reached, or bad usage.

Importable: run_queries(url, ...) returns a list of QueryResult.
python3 standard library only.
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_dashboards  # noqa: E402

DEFAULT_DASHBOARDS = os.path.join(check_dashboards.REPO, "dashboards")


class PrometheusUnreachable(Exception):
    pass


class QueryResult:
    """status: "data", "empty", "invalid" (HTTP 400), "failed" (HTTP 422 or other
    API error)."""

    __slots__ = ("dashboard", "where", "expr", "query", "status", "series", "error")

    def __init__(self, dashboard, where, expr, query, status, series=0, error=""):
        self.dashboard, self.where, self.expr, self.query = dashboard, where, expr, query
        self.status, self.series, self.error = status, series, error

    @property
    def ok(self):
        return self.status in ("data", "empty")

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        return "QueryResult(%s %s: %s)" % (self.dashboard, self.where, self.status)


def instant_query(url, query, timeout=10.0):
    """Returns (status, series, error)."""
    endpoint = url.rstrip("/") + "/api/v1/query"
    body = urllib.parse.urlencode({"query": query}).encode()
    req = urllib.request.Request(endpoint, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.load(resp)
    except urllib.error.HTTPError as e:
        try:
            payload = json.load(e)
            err = "%s: %s" % (payload.get("errorType"), payload.get("error"))
        except ValueError:
            err = "HTTP %d" % e.code
        return ("invalid" if e.code == 400 else "failed"), 0, "HTTP %d %s" % (e.code, err)
    except (urllib.error.URLError, OSError) as e:
        raise PrometheusUnreachable("%s: %s" % (endpoint, e))
    if payload.get("status") != "success":
        return "failed", 0, "%s: %s" % (payload.get("errorType"), payload.get("error"))
    data = payload.get("data", {})
    result = data.get("result")
    if data.get("resultType") in ("scalar", "string"):
        return "data", 1, ""
    n = len(result or [])
    return ("data" if n else "empty"), n, ""


LABEL_VALUES_RE = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")


def collect_queries(dash_dir=DEFAULT_DASHBOARDS):
    """[(dashboard file, where, expr)] for targets, annotations and variables."""
    out = []
    for path, data, err in check_dashboards.load_dashboards(dash_dir):
        name = os.path.basename(path)
        if err or not isinstance(data, dict):
            raise ValueError("%s: not valid JSON: %s" % (name, err))
        for where, expr, _ in check_dashboards.dashboard_exprs(data):
            out.append((name, where, expr))
        for vname, q in check_dashboards.variable_queries(data):
            m = LABEL_VALUES_RE.match(q)
            if m:
                out.append((name, "variable %s" % vname,
                            "count by (%s) (%s)" % (m.group(2), m.group(1))))
    return out


def run_queries(url, dash_dir=DEFAULT_DASHBOARDS, rate_interval="1m", job=".*",
                instance=".*", timeout=10.0):
    """Runs every dashboard query; returns [QueryResult]. Raises
    PrometheusUnreachable if Prometheus does not answer."""
    results = []
    for dash, where, expr in collect_queries(dash_dir):
        try:
            q = check_dashboards.substitute_variables(expr, rate_interval, job, instance)
        except KeyError as e:
            results.append(QueryResult(dash, where, expr, expr, "invalid", 0, str(e)))
            continue
        status, n, err = instant_query(url, q, timeout)
        results.append(QueryResult(dash, where, expr, q, status, n, err))
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the dashboards' queries against Prometheus.")
    ap.add_argument("url", help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    ap.add_argument("--dashboards", default=DEFAULT_DASHBOARDS)
    ap.add_argument("--rate-interval", default="1m",
                    help="value for $__rate_interval (default %(default)s)")
    ap.add_argument("--job", default=".*", help="regex for $job (default %(default)s)")
    ap.add_argument("--instance", default=".*", help="regex for $instance")
    ap.add_argument("--require-data", action="append", default=[], metavar="REGEX",
                    help="fail if a query whose panel title or expression matches "
                         "REGEX returns no data (repeatable)")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    args = ap.parse_args(argv)

    try:
        results = run_queries(args.url, args.dashboards, args.rate_interval, args.job,
                              args.instance, args.timeout)
    except PrometheusUnreachable as e:
        print("query_dashboards_live: Prometheus unreachable: %s" % e, file=sys.stderr)
        return 2
    except ValueError as e:
        print("query_dashboards_live: %s" % e, file=sys.stderr)
        return 2

    required = [re.compile(r) for r in args.require_data]
    missing = [r for r in results if r.status == "empty"
               and any(p.search(r.where) or p.search(r.expr) for p in required)]
    bad = [r for r in results if not r.ok]
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
    else:
        with_data = [r for r in results if r.status == "data"]
        empty = [r for r in results if r.status == "empty"]
        if not args.quiet:
            for r in with_data:
                print("data   %3d series  %s: %s" % (r.series, r.dashboard, r.where))
        if empty:
            print("%d queries returned no data:" % len(empty))
            for r in empty:
                print("empty  %s: %s\n         %s" % (r.dashboard, r.where, r.query))
        print("query_dashboards_live: %d queries, %d with data, %d empty, %d rejected"
              % (len(results), len(with_data), len(empty), len(bad)))
    for r in bad:
        print("FAIL %s %s: %s\n     %s" % (r.dashboard, r.where, r.error, r.query),
              file=sys.stderr)
    for r in missing:
        print("FAIL %s %s: no data (required by --require-data)\n     %s"
              % (r.dashboard, r.where, r.query), file=sys.stderr)
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
