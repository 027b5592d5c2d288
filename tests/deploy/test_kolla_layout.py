#!/usr/bin/env python3
"""The exporter on a simulated kolla-ansible compute host, mounted as
deploy/kolla/run-hostiso-exporter.sh mounts the container.

Usage: test_kolla_layout.py EXPORTER_BINARY

Layout (in a scratch directory standing in for the host's root):
  etc/kolla/nova-compute/nova.conf      Kolla's nova.conf (root-only, 0660)
  etc/hostiso-exporter/nova/nova.conf   the copy hostiso-nova-conf.service makes
                                        (the same `install` command: root:9933 0640)
  volumes/nova_compute/_data            the `nova_compute` named volume: a
                                        64 MiB tmpfs holding instances/
In a private mount namespace the volume is bind-mounted read-only at
<root>/var/lib/nova, as `-v nova_compute:/host/root/var/lib/nova:ro` does, and
the exporter runs as uid/gid 9933 with --path.rootfs=<root> and the copy of
nova.conf. Every collector must succeed, and the instance storage measured
must be the volume (64 MiB), not the root file system. A control run without
the volume mount must fail the disk collector (what happened on every Kolla
host before the mount was documented).

libvirt is libvirt's test driver (test:///default): libvirtd of Kolla's
nova_libvirt container is not simulated here; tests/libvirt covers a real one.
Needs root (mount namespace, tmpfs, setpriv); exit 77 otherwise.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from exporter_harness import SKIP, Checker, Exporter, parse, select, value  # noqa: E402

VOLUME_BYTES = 64 * 1024 * 1024
NOVA_CONF = """[DEFAULT]
reserved_host_memory_mb = 512
reserved_host_disk_mb = 8
[libvirt]
virt_type = kvm
"""
ENTER = """#!/bin/sh
# The exporter's flags pass through; the mounts happen in a private namespace.
exec unshare -m --propagation private "{inner}" "$@"
"""
WRAPPER = """#!/bin/sh
# Inside the private mount namespace: the named volume as a tmpfs,
# bind-mounted read-only where nova.conf's instances_path resolves under
# --path.rootfs.
set -e
mount -t tmpfs -o size=64m,mode=0755 nova_compute "{volume}"
mkdir -p "{volume}/instances"
if [ "{mount_volume}" = yes ]; then
  mount --bind "{volume}" "{root}/var/lib/nova"
  mount -o remount,bind,ro "{root}/var/lib/nova"
fi
exec setpriv --reuid 9933 --regid 9933 --clear-groups --no-new-privs "{exporter}" "$@"
"""


def layout(tmp):
    root = os.path.join(tmp, "host")
    kolla = os.path.join(root, "etc", "kolla", "nova-compute")
    os.makedirs(kolla)
    os.chmod(kolla, 0o770)
    with open(os.path.join(kolla, "nova.conf"), "w") as f:
        f.write(NOVA_CONF)
    os.chmod(os.path.join(kolla, "nova.conf"), 0o660)
    os.makedirs(os.path.join(root, "var", "lib", "nova"))
    volume = os.path.join(tmp, "volumes", "nova_compute", "_data")
    os.makedirs(volume)
    copy_dir = os.path.join(root, "etc", "hostiso-exporter", "nova")
    # The two ExecStart lines of deploy/kolla/hostiso-nova-conf.service, rooted here.
    subprocess.run(["install", "-d", "-o", "root", "-g", "9933", "-m", "0750", copy_dir],
                   check=True)
    subprocess.run(["install", "-o", "root", "-g", "9933", "-m", "0640",
                    os.path.join(kolla, "nova.conf"), os.path.join(copy_dir, "nova.conf")],
                   check=True)
    return root, volume, os.path.join(copy_dir, "nova.conf")


def run(exporter, tmp, mount_volume):
    root, volume, nova_conf = layout(tmp)
    inner = os.path.join(tmp, "in-namespace.sh")
    with open(inner, "w") as f:
        f.write(WRAPPER.format(volume=volume, root=root, exporter=exporter,
                               mount_volume="yes" if mount_volume else "no"))
    enter = os.path.join(tmp, "enter-namespace.sh")
    with open(enter, "w") as f:
        f.write(ENTER.format(inner=inner))
    for script in (inner, enter):
        os.chmod(script, 0o755)
    args = ["--path.procfs=/proc", "--path.sysfs=/sys", "--path.rootfs=" + root,
            "--nova.config=" + nova_conf, "--libvirt.uri=test:///default",
            "--libvirt.refresh-interval=1", "--census.interval=1"]
    with Exporter(enter, args) as e:
        # the first scrape may precede the first libvirt refresh, census and disk
        # measurement (each runs on its own thread)
        deadline = time.time() + 20
        while True:
            samples = parse(e.metrics())
            ok = [s for s in select(samples, "hostiso_collector_success") if s[2] == 1]
            if len(ok) == len(select(samples, "hostiso_collector_success")) - 1 \
                    or time.time() > deadline:
                return samples
            time.sleep(0.5)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exporter = os.path.abspath(argv[1])
    if os.geteuid() != 0:
        print("SKIP: needs root (mount namespace, tmpfs, setpriv to uid 9933)")
        return SKIP
    for tool in ("unshare", "setpriv", "install"):
        if not shutil.which(tool):
            print("SKIP: %s not found (util-linux, coreutils)" % tool)
            return SKIP
    if not os.access(exporter, os.X_OK):
        print("SKIP: exporter binary %s not built" % exporter)
        return SKIP
    c = Checker()
    with tempfile.TemporaryDirectory(prefix="hostiso-kolla-") as tmp:
        os.chmod(tmp, 0o755)
        os.makedirs(os.path.join(tmp, "mounted"))
        samples = run(exporter, os.path.join(tmp, "mounted"), True)
        collectors = select(samples, "hostiso_collector_success")
        c.check(len(collectors) >= 7, "all 7 collectors report (%d)" % len(collectors))
        for name, labels, v in collectors:
            if labels.get("collector") == "sched":
                # uid 9933 without CAP_BPF/CAP_PERFMON: reports that, by design
                c.check(v == 0, "collector sched reports it cannot load unprivileged")
                continue
            c.check(v == 1, "collector %s succeeds on the Kolla layout" % labels.get("collector"))
        c.check(value(samples, "hostiso_config_load_success", source="nova") == 1,
                "nova.conf (the copy) loads as uid 9933")
        size = select(samples, "hostiso_disk_size_bytes", role="instances")
        c.check(len(size) == 1 and size[0][2] == VOLUME_BYTES,
                "instance storage measured on the nova_compute volume (64 MiB): %s" % size)

        os.makedirs(os.path.join(tmp, "unmounted"))
        samples = run(exporter, os.path.join(tmp, "unmounted"), False)
        c.check(value(samples, "hostiso_collector_success", collector="disk") == 0,
                "control: without the volume mount the disk collector fails")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
