"""Helpers of the web-layer tests: certificates (openssl CLI), bcrypt hashes
(libxcrypt through ctypes), the exporter with a log file, a real Prometheus.

Everything listens on 127.0.0.1 (or [::1]) only and lives in a temporary
directory the caller removes.
"""
import ctypes
import ctypes.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from exporter_harness import SKIP, free_port, stop_process  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "smt_large")
# The fixture host, without the live sources this test does not need.
FIXTURE_ARGS = ["--path.procfs=" + os.path.join(FIXTURE, "proc"),
                "--path.sysfs=" + os.path.join(FIXTURE, "sys"),
                "--nova.config=" + os.path.join(FIXTURE, "nova.conf"),
                "--no-collector.libvirt", "--no-collector.census",
                "--no-collector.interrupts", "--no-collector.disk"]


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)


def require(*tools):
    for t in tools:
        if shutil.which(t) is None:
            skip("%s not installed (scripts/install-deps.sh test)" % t)


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name="ca"):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "2", "-subj", "/CN=hostiso-test-" + name, "-keyout", name + ".key",
             "-out", name + ".crt", cwd=d)
    return os.path.join(d, name + ".crt")


def make_cert(d, name, ca="ca", cn="localhost", server=True):
    """A key and a certificate signed by `ca`; servers get 127.0.0.1/::1 SANs."""
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-subj", "/CN=" + cn, "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n" if server
                else "extendedKeyUsage=clientAuth\n")
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
             "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", name + ".crt", cwd=d)
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


def bcrypt_hash(password, cost=10):
    """$2b$ hash made by libxcrypt (the library the exporter verifies with)."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$2b$", cost, None, 0)
    return lib.crypt(password.encode(), salt).decode()


def wait_port(host, port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("process exited with %s" % proc.returncode)
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %s:%d after %d s" % (host, port, timeout))


class Exporter:
    """The exporter with `args`, its stderr in `log_path`."""

    def __init__(self, binary, args, log_path):
        self.cmd = [binary] + FIXTURE_ARGS + list(args)
        self.log_path = log_path
        self.proc = None

    def start(self, host="127.0.0.1", port=None):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self.log)
        if port is not None:
            wait_port(host, port, self.proc)
        return self

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
            self.log.close()

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()


class Prometheus:
    """A real Prometheus on 127.0.0.1 with its own data directory."""

    def __init__(self, tmp, scrape_configs, interval="1s"):
        self.port = free_port()
        self.tmp = tmp
        cfg = {"global": {"scrape_interval": interval, "scrape_timeout": interval},
               "scrape_configs": scrape_configs}
        # JSON is YAML: no YAML writer needed.
        self.cfg_path = os.path.join(tmp, "prometheus.yml")
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f, indent=1)
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.tmp, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + self.cfg_path,
             "--storage.tsdb.path=" + os.path.join(self.tmp, "prom-data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited: see %s/prometheus.log" % self.tmp)
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port,
                                            timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus not ready within 30 s")

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
            self.log.close()

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            data = json.load(r)
        return [(s["metric"], float(s["value"][1])) for s in data["data"]["result"]]

    def targets(self):
        url = "http://127.0.0.1:%d/api/v1/targets" % self.port
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)["data"]["activeTargets"]

    def wait_for(self, what, cond, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return True
            time.sleep(0.5)
        print("timed out waiting for " + what, flush=True)
        return False
