"""A private libvirtd and spinning guests for the live tests (soak, sched, topology,
CPU accounting): users, groups, /dev/kvm's group and directories created as
tests/libvirt/test_libvirt_live.sh does, unix sockets only, everything this
module started stopped again. KVM where /dev/kvm exists, TCG otherwise."""
import os
import shutil
import signal
import subprocess
import time
from xml.sax.saxutils import escape, quoteattr


def virsh(*args, timeout=60):
    """(ok, output) of `virsh -c qemu:///system ARGS`."""
    try:
        p = subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "virsh %s timed out after %d s" % (args[0], timeout)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


def guest_xml(name, virt, disk, cpu, emulator_cpu=None):
    """A 64 MiB, 1-vCPU guest whose vCPU is pinned to `cpu` (its emulator to
    `emulator_cpu`, default `cpu`) and that boots a 'jmp $' disk."""
    return """<domain type=%s>
  <name>%s</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>1</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='%d'/><emulatorpin cpuset='%d'/></cputune>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file=%s/><target dev='hda' bus='ide'/></disk>
    <memballoon model='none'/>
  </devices>
</domain>
""" % (quoteattr(virt), escape(name), cpu, cpu if emulator_cpu is None else emulator_cpu,
       quoteattr(disk))


def write_spin_disk(path):
    # 1 MiB raw disk: "jmp $" (EB FE) at the start of the boot sector and the 55 AA
    # signature, so SeaBIOS boots it and vCPU 0 spins.
    img = bytearray(1024 * 1024)
    img[0:2] = b"\xeb\xfe"
    img[510:512] = b"\x55\xaa"
    with open(path, "wb") as f:
        f.write(img)
    os.chmod(path, 0o644)


class Libvirtd:
    """A libvirtd (and virtlogd) started by a test. stop() removes the guests named
    `guest_names` and kills QEMUs left running a guest named `guest_prefix`*."""

    def __init__(self, work, guest_names, guest_prefix):
        self.work = work
        self.guest_names = list(guest_names)
        self.guest_prefix = guest_prefix
        self.pid = None
        self.answered = False
        self.started_virtlogd = False
        self.kvm_orig = None
        self.virt = "kvm" if os.path.exists("/dev/kvm") else "qemu"

    def why_not(self):
        """Why this machine cannot run the guest churn, or None."""
        if os.geteuid() != 0:
            return "needs root (starts libvirtd, creates users, changes /dev/kvm's group)"
        for b in ("libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "groupadd", "useradd"):
            if shutil.which(b) is None:
                return "missing %s (scripts/install-deps.sh test)" % b
        for daemon in ("libvirtd", "virtqemud"):
            if subprocess.run(["pgrep", "-x", daemon], capture_output=True).returncode == 0:
                return "a %s this test did not start is running; not touching it" % daemon
        return None

    def prepare_host(self):
        def run(*cmd):
            subprocess.run(cmd, check=True, capture_output=True)

        def exists(db, key):
            return subprocess.run(["getent", db, key], capture_output=True).returncode == 0

        for group in ("libvirt", "kvm", "libvirt-qemu"):
            if not exists("group", group):
                run("groupadd", "--system", group)
        if not exists("passwd", "libvirt-qemu"):
            run("useradd", "--system", "--gid", "libvirt-qemu", "--groups", "kvm", "--home-dir",
                "/var/lib/libvirt", "--no-create-home", "--shell", "/usr/sbin/nologin",
                "libvirt-qemu")
        groups = subprocess.run(["id", "-nG", "libvirt-qemu"], capture_output=True, text=True)
        if "kvm" not in groups.stdout.split():
            run("usermod", "-a", "-G", "kvm", "libvirt-qemu")
        if self.virt == "kvm":
            st = os.stat("/dev/kvm")
            self.kvm_orig = (st.st_gid, st.st_mode & 0o7777)
            shutil.chown("/dev/kvm", group="kvm")
            os.chmod("/dev/kvm", 0o660)
        for d in ("/run/libvirt", "/var/log/libvirt/qemu", "/var/lib/libvirt/qemu",
                  "/var/cache/libvirt/qemu", "/etc/libvirt/qemu"):
            os.makedirs(d, exist_ok=True)

    def start(self):
        """Starts the daemons; returns None, or why they did not start."""
        self.prepare_host()
        if subprocess.run(["pgrep", "-x", "virtlogd"], capture_output=True).returncode != 0:
            subprocess.run(["virtlogd", "-d"], check=True)
            self.started_virtlogd = True
        subprocess.run(["libvirtd", "-d"], check=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.pid = self.pid or daemon_pid("libvirtd")  # stopped at the end even if mute
            if virsh("version", timeout=10)[0]:
                self.answered = True
                return None
            time.sleep(0.2)
        return "libvirtd did not answer on qemu:///system within 30 s"

    def stop(self):
        """Stops every guest of this test, then the daemons this test started."""
        if self.answered:
            for name in self.guest_names:
                virsh("destroy", name, timeout=30)
                virsh("undefine", name, timeout=30)
        # Guests left without their libvirtd: only QEMUs running our guest names.
        pgrep = subprocess.run(["pgrep", "-f", "guest=" + self.guest_prefix], capture_output=True,
                               text=True)
        for pid in pgrep.stdout.split():
            try:
                with open("/proc/%s/comm" % pid) as f:
                    if f.read().strip() == "qemu-system-x86":
                        os.kill(int(pid), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass
        for pid in (self.pid, daemon_pid("virtlogd") if self.started_virtlogd else None):
            if pid:
                terminate_pid(pid)
        if self.kvm_orig:
            os.chown("/dev/kvm", -1, self.kvm_orig[0])
            os.chmod("/dev/kvm", self.kvm_orig[1])
        for name in self.guest_names:
            for d in ("/var/log/libvirt/qemu", "/etc/libvirt/qemu"):
                for ext in (".log", ".xml"):
                    path = os.path.join(d, name + ext)
                    if os.path.exists(path):
                        os.unlink(path)


def daemon_pid(name):
    """The pid in /run/NAME.pid if that process is NAME (not a stale file), else None."""
    try:
        pid = int(open("/run/%s.pid" % name).read())
        with open("/proc/%d/comm" % pid) as f:
            return pid if f.read().strip() == name else None
    except (OSError, ValueError):
        return None


def terminate_pid(pid, timeout=10):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
