#!/usr/bin/env python3
"""wrk (Debian) at 100 connections against /metrics, plain HTTP with
keep-alive: no socket error and no non-2xx answer (--web.max-requests is
raised above 100 here, so 503s would be errors), and RSS bounded: wrk runs
in two halves; RSS grows while more of the --web.max-connections worker
threads serve their first requests (each touches its stack and allocator
cache), so the second half must grow it less than the first (converging) and
the end stays under 128 MiB. Then Python's
prometheus_client (python3-prometheus-client), a strict independent reader,
parses the whole exposition, plain and gzipped.

127.0.0.1 only. Bounded: --seconds (default 60) plus a few seconds.
Usage: test_wrk_load.py --exporter PATH [--seconds 60]
"""
import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_lib  # noqa: E402
from web_lib import Exporter, free_port  # noqa: E402
from exporter_harness import Checker  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


def wrk(port, seconds):
    p = subprocess.run(["wrk", "-t2", "-c100", "-d%ds" % seconds, "--timeout", "10s",
                        "-H", "Accept-Encoding: gzip",
                        "http://127.0.0.1:%d/metrics" % port],
                       capture_output=True, text=True, timeout=seconds + 60)
    print(p.stdout, flush=True)
    return p.stdout


def check_parse(c, port):
    from prometheus_client.parser import text_string_to_metric_families
    url = "http://127.0.0.1:%d/metrics" % port
    plain = urllib.request.urlopen(url, timeout=10).read().decode()
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as r:
        c.check(r.headers.get("Content-Encoding") == "gzip", "gzip when asked")
        unzipped = gzip.decompress(r.read()).decode()
    for name, text in (("plain", plain), ("gzip", unzipped)):
        try:
            families = list(text_string_to_metric_families(text))
            c.check(len(families) > 10, "prometheus_client parses the %s exposition "
                    "(%d families)" % (name, len(families)))
        except Exception as e:  # noqa: BLE001 - the parser's verdict is the result
            c.check(False, "prometheus_client rejects the %s exposition: %s" % (name, e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    web_lib.require("wrk")
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        # Debian's package, when python3 here is not Debian's (pyenv).
        sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import prometheus_client  # noqa: F401,F811
    except ImportError:
        web_lib.skip("python3-prometheus-client not installed (scripts/install-deps.sh test)")
    c = Checker()
    with tempfile.TemporaryDirectory(prefix="hostiso-web-wrk-") as d:
        port = free_port()
        ex = Exporter(args.exporter, ["--web.listen-address=127.0.0.1:%d" % port,
                                      "--web.max-requests=200"],
                      os.path.join(d, "exporter.log"))
        try:
            ex.start(port=port)
            check_parse(c, port)
            start = rss_kib(ex.proc.pid)
            first = wrk(port, args.seconds // 2)
            middle = rss_kib(ex.proc.pid)
            second = wrk(port, args.seconds - args.seconds // 2)
            end = rss_kib(ex.proc.pid)
        finally:
            ex.stop()
        for half, out in (("first", first), ("second", second)):
            m = re.search(r"(\d+) requests in", out)
            c.check(m is not None and int(m.group(1)) > 0, "%s half: wrk made requests" % half)
            c.check("Socket errors" not in out, "%s half: no socket errors" % half)
            c.check("Non-2xx" not in out, "%s half: no non-2xx answers" % half)
        print("RSS at start %d KiB, after the first half %d KiB, at the end %d KiB"
              % (start, middle, end))
        c.check(end - middle < max(middle - start, 1024),
                "RSS converges: %+d KiB in the first half, %+d KiB in the second"
                % (middle - start, end - middle))
        c.check(end < 128 * 1024, "RSS bounded: %d KiB at the end" % end)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
