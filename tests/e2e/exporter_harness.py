"""Starts hostiso_exporter on 127.0.0.1 and scrapes it (shared by the e2e tests)."""
import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

SKIP = 77


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port():
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Exporter:
    """Context manager: the exporter running with `args` on a free loopback port."""

    def __init__(self, binary, args, port=None):
        self.binary = binary
        self.port = port or free_port()
        self.args = ["--web.listen-address=127.0.0.1:%d" % self.port] + list(args)
        self.proc = None
        self.stderr = ""

    def __enter__(self):
        self.proc = subprocess.Popen([self.binary] + self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exporter exited with %s: %s" % (self.proc.returncode,
                                                                     self.proc.stderr.read()))
            try:
                self.get("/")
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        raise RuntimeError("exporter did not answer on port %d within 15 s" % self.port)

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.stderr = self.proc.communicate(timeout=10)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.stderr = self.proc.communicate()[1]
        return False

    def get(self, path, timeout=10):
        """Returns (status, body)."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                        timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        status, body = self.get("/metrics")
        if status != 200:
            raise RuntimeError("/metrics answered %d" % status)
        return body


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Exposition text -> list of (name, {labels}, float value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("unparsable exposition line: %r" % line)
        labels = dict(LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def select(samples, name, **labels):
    return [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]


def value(samples, name, **labels):
    found = select(samples, name, **labels)
    if len(found) != 1:
        raise AssertionError("expected one %s%s, found %d" % (name, labels, len(found)))
    return found[0][2]


def promtool_check(text):
    """Runs `promtool check metrics`; returns (ran, problems)."""
    try:
        p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                           capture_output=True, timeout=60)
    except FileNotFoundError:
        return False, "promtool not installed"
    return True, (p.stdout + p.stderr).strip() if p.returncode != 0 else ""


class Checker:
    """Collects failures so one run reports all of them."""

    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)
            print("FAIL:", what, flush=True)

    def finish(self, skipped=()):
        for s in skipped:
            print("SKIPPED:", s)
        print("%d passed, %d failed" % (self.passed, len(self.failures)))
        if self.failures:
            return 1
        return SKIP if skipped and self.passed == 0 else 0
