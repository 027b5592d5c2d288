#!/usr/bin/env python3
"""--web.config.file end to end, with a real Prometheus (Debian's prometheus).

The exporter serves TLS on 127.0.0.1 and [::1] (two --web.listen-address)
with client certificates (RequireAndVerifyClientCert) and basic auth; the
certificates come from openssl, made here. Prometheus scrapes it five ways:
  ok      client certificate + right password          -> up == 1
  v6      the same over [::1]                           -> up == 1
  wrongpw client certificate + wrong password          -> up == 0, logged
  nocert  right password, no client certificate        -> up == 0, logged
Then: plain HTTP to the TLS port gets no exposition; the server certificate
is replaced on disk and the next handshake presents it while Prometheus
keeps scraping; a broken web config keeps the last good one in force; the
exporter refuses to start on a broken config (exit 1, one line) and on an
invalid listen address (exit 2).

Usage: test_web_tls_live.py --exporter PATH
"""
import argparse
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_lib  # noqa: E402
from web_lib import Exporter, Prometheus, free_port  # noqa: E402
from exporter_harness import Checker  # noqa: E402

PASSWORD = "correct horse battery staple"


def write_web_config(d, ca_required=True):
    with open(os.path.join(d, "web.yml"), "w") as f:
        f.write("tls_server_config:\n"
                "  cert_file: server.crt\n"
                "  key_file: server.key\n")
        if ca_required:
            f.write("  client_auth_type: RequireAndVerifyClientCert\n"
                    "  client_ca_file: ca.crt\n")
        f.write("http_server_config:\n"
                "  headers:\n"
                "    X-Content-Type-Options: nosniff\n"
                "basic_auth_users:\n"
                "  prometheus: \"%s\"\n" % web_lib.bcrypt_hash(PASSWORD))
    return os.path.join(d, "web.yml")


def scrape_job(name, target, d, password=PASSWORD, client_cert=True):
    tls = {"ca_file": os.path.join(d, "ca.crt")}
    if client_cert:
        tls["cert_file"] = os.path.join(d, "client.crt")
        tls["key_file"] = os.path.join(d, "client.key")
    return {"job_name": name, "scheme": "https", "static_configs": [{"targets": [target]}],
            "tls_config": tls, "basic_auth": {"username": "prometheus", "password": password}}


def has_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def peer_common_name(port, d):
    """The CN of the certificate the exporter presents now."""
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
    ctx.load_cert_chain(os.path.join(d, "client.crt"), os.path.join(d, "client.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
            return subject.get("commonName")


def plain_http_answer(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        try:
            while len(data) < 65536:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return data


def up(prom, job):
    r = prom.query('up{job="%s"}' % job)
    return r[0][1] if r else None


def check_scrapes(c, prom, ex, v6):
    jobs = {"ok": 1, "wrongpw": 0, "nocert": 0}
    if v6:
        jobs["v6"] = 1
    for job in jobs:
        prom.wait_for("a scrape of " + job, lambda j=job: up(prom, j) is not None)
    time.sleep(2.5)  # a few more scrapes each
    for job, want in jobs.items():
        got = up(prom, job)
        c.check(got == want, "up{job=%s} == %s (got %s)" % (job, want, got))
    log = ex.log_text()
    c.check('reason="wrong password"' in log, "the exporter logs the wrong password")
    c.check("certificate required" in log, "the exporter logs the missing client certificate")
    c.check(PASSWORD not in log and "$2b$" not in log, "no password or hash in the log")


def check_rotation(c, prom, ex, d, port):
    c.check(peer_common_name(port, d) == "localhost", "the first server certificate is served")
    web_lib.make_cert(d, "server2", cn="rotated")
    os.replace(os.path.join(d, "server2.key"), os.path.join(d, "server.key"))
    os.replace(os.path.join(d, "server2.crt"), os.path.join(d, "server.crt"))
    c.check(peer_common_name(port, d) == "rotated",
            "the replaced certificate is used by the next handshake, without restart")
    time.sleep(3)
    got = prom.query('min_over_time(up{job="ok"}[2s])')
    c.check(bool(got) and got[0][1] == 1, "Prometheus scrapes on with the new certificate")
    # A broken config later: the last good one stays in force.
    web = os.path.join(d, "web.yml")
    with open(web) as f:
        good = f.read()
    with open(web, "w") as f:
        f.write("tls_server_config: [broken\n")
    c.check(peer_common_name(port, d) == "rotated", "a broken web config keeps the last good one")
    c.check("web config reload failed" in ex.log_text(), "the failed reload is logged")
    with open(web, "w") as f:
        f.write(good)


def check_start_failures(c, binary, d):
    bad = os.path.join(d, "bad.yml")
    with open(bad, "w") as f:
        f.write("basic_auth_users:\n  alice: notahash\n")
    port = free_port()
    p = subprocess.run([binary] + web_lib.FIXTURE_ARGS + [
        "--web.listen-address=127.0.0.1:%d" % port, "--web.config.file=" + bad],
        capture_output=True, text=True, timeout=30)
    errors = [ln for ln in p.stderr.splitlines() if "level=error" in ln]
    c.check(p.returncode == 1, "broken web config at start: exit 1 (got %d)" % p.returncode)
    c.check(len(errors) == 1 and "not a bcrypt hash" in errors[0],
            "broken web config at start: one error line (%s)" % errors)
    c.check("notahash" not in p.stderr, "the bad hash is not logged")
    p = subprocess.run([binary, "--web.listen-address=999.1.1.1:%d" % port],
                       capture_output=True, text=True, timeout=30)
    c.check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1,
            "999.1.1.1 is refused: exit 2, one line (got %d: %s)" % (p.returncode, p.stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    web_lib.require("openssl", "prometheus")
    c = Checker()
    v6 = has_ipv6()
    with tempfile.TemporaryDirectory(prefix="hostiso-web-tls-") as d:
        web_lib.make_ca(d)
        web_lib.make_cert(d, "server")
        web_lib.make_cert(d, "client", cn="prometheus", server=False)
        web = write_web_config(d)
        port = free_port()
        listen = ["--web.listen-address=127.0.0.1:%d" % port]
        if v6:
            listen.append("--web.listen-address=[::1]:%d" % port)
        ex = Exporter(args.exporter, listen + ["--web.config.file=" + web],
                      os.path.join(d, "exporter.log"))
        target = "127.0.0.1:%d" % port
        jobs = [scrape_job("ok", target, d), scrape_job("wrongpw", target, d, password="nope"),
                scrape_job("nocert", target, d, client_cert=False)]
        if v6:
            jobs.append(scrape_job("v6", "[::1]:%d" % port, d))
        prom = Prometheus(d, jobs)
        try:
            ex.start(port=port)
            prom.start()
            check_scrapes(c, prom, ex, v6)
            answer = plain_http_answer(port)
            c.check(b"# HELP" not in answer and b"200 OK" not in answer,
                    "plain HTTP to the TLS port gets no exposition")
            check_rotation(c, prom, ex, d, port)
        finally:
            prom.stop()
            ex.stop()
        check_start_failures(c, args.exporter, d)
        if c.failures:
            print(ex.log_text())
    skipped = [] if v6 else ["the [::1] scrape: this machine has no IPv6 loopback"]
    return c.finish(skipped)


if __name__ == "__main__":
    sys.exit(main())
