#!/usr/bin/env python3
"""HTTP behaviour of the exporter, plain HTTP on two listen addresses
(127.0.0.1 and [::1] when there is IPv6):
  gzip only when accepted (and q=0 honoured), Content-Type of the text
  format, HEAD without body, 405 with Allow, 404, keep-alive (two requests
  on one connection), --web.max-requests (100 simultaneous scrapes with a
  limit of 1: every answer 200 or 503, some 503), invalid addresses exit 2.

Usage: test_web_http.py --exporter PATH
"""
import argparse
import gzip
import http.client
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_lib import Exporter, free_port  # noqa: E402
from exporter_harness import run_concurrently  # noqa: E402  (tests/e2e, on the path web_lib set)
from exporter_harness import Checker  # noqa: E402
from test_web_tls_live import has_ipv6  # noqa: E402

TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def request(host, port, method, path, headers=None):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r, body


def check_basics(c, host, port):
    r, body = request(host, port, "GET", "/metrics", {"Accept-Encoding": "gzip"})
    c.check(r.status == 200 and r.getheader("Content-Encoding") == "gzip",
            "%s: gzip when accepted" % host)
    c.check(b"hostiso_build_info" in gzip.decompress(body), "%s: the gzip body is the exposition"
            % host)
    c.check(r.getheader("Content-Type") == TEXT_TYPE, "%s: Content-Type of the text format" % host)
    r, body = request(host, port, "GET", "/metrics", {"Accept-Encoding": "gzip;q=0, identity"})
    c.check(r.getheader("Content-Encoding") is None and b"hostiso_build_info" in body,
            "%s: no gzip for gzip;q=0" % host)
    r, body = request(host, port, "HEAD", "/metrics")
    c.check(r.status == 200 and body == b"", "%s: HEAD has no body" % host)
    r, _ = request(host, port, "POST", "/metrics")
    c.check(r.status == 405 and r.getheader("Allow") == "GET, HEAD",
            "%s: POST gets 405 with Allow" % host)
    r, _ = request(host, port, "GET", "/nothing")
    c.check(r.status == 404, "%s: 404 elsewhere" % host)


def check_keep_alive(c, port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    r.read()
    first = conn.sock.getsockname() if conn.sock else None
    conn.request("GET", "/metrics")
    r2 = conn.getresponse()
    r2.read()
    second = conn.sock.getsockname() if conn.sock else None
    conn.close()
    c.check(r.getheader("Connection") == "keep-alive" and r2.status == 200 and first == second,
            "two requests on one kept-alive connection")


def check_max_requests(c, port):
    barrier = threading.Barrier(100)
    statuses = []

    def scrape():
        barrier.wait()
        try:
            r, _ = request("127.0.0.1", port, "GET", "/metrics")
            statuses.append(r.status)
        except OSError as e:
            statuses.append(str(e))

    run_concurrently(scrape, 100)
    c.check(all(s in (200, 503) for s in statuses), "every answer is 200 or 503 (%s)"
            % sorted(set(map(str, statuses))))
    c.check(statuses.count(503) > 0 and statuses.count(200) > 0,
            "--web.max-requests=1: some scrapes get 503 at once (%d of 100)"
            % statuses.count(503))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    c = Checker()
    v6 = has_ipv6()
    port = free_port()
    listen = ["--web.listen-address=127.0.0.1:%d" % port]
    if v6:
        listen.append("--web.listen-address=[::1]:%d" % port)
    with tempfile.TemporaryDirectory(prefix="hostiso-web-http-") as d:
        ex = Exporter(args.exporter, listen + ["--web.max-requests=1"],
                      os.path.join(d, "exporter.log"))
        try:
            ex.start(port=port)
            check_basics(c, "127.0.0.1", port)
            if v6:
                check_basics(c, "::1", port)
            check_keep_alive(c, port)
            check_max_requests(c, port)
        finally:
            ex.stop()
    for bad in ("999.1.1.1:%d" % port, "[::1:%d" % port, "localhost:99999", "my.host:80"):
        p = subprocess.run([args.exporter, "--web.listen-address=" + bad],
                           capture_output=True, text=True, timeout=30)
        c.check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1,
                "--web.listen-address=%s: exit 2, one line (%d: %s)"
                % (bad, p.returncode, p.stderr.strip()))
    return c.finish([] if v6 else ["[::1]: no IPv6 loopback here"])


if __name__ == "__main__":
    sys.exit(main())
