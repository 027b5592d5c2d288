#!/usr/bin/env bash
# Runs the hostiso_exporter container on a kolla-ansible compute host, with the
# mounts Kolla's layout needs (docker/README.md, "kolla-ansible"):
#   - instances live in the `nova_compute` named volume, which Kolla mounts at
#     /var/lib/nova in its containers: mount it read-only where nova.conf's
#     instances_path (default /var/lib/nova/instances) resolves under
#     --path.rootfs, i.e. /host/root/var/lib/nova;
#   - nova.conf is /etc/kolla/nova-compute/nova.conf, root-only (0660 in a 0770
#     directory): hostiso-nova-conf.path keeps a copy readable by the exporter
#     in /etc/hostiso-exporter/nova/;
#   - libvirtd runs in the nova_libvirt container, which bind-mounts the host's
#     /run: its read-only socket is the host's /run/libvirt/libvirt-sock-ro.
#
# Usage: run-hostiso-exporter.sh --host-cpus LIST [--image IMAGE]
#            [--listen ADDR:PORT] [--volume NAME] [--print]
#   --host-cpus  host-role CPUs (outside cpu_dedicated_set/cpu_shared_set)
#   --volume     Kolla's nova_instance_datadir_volume (default nova_compute)
#   --print      print the docker command instead of running it
# Exit 2 on bad arguments.
set -euo pipefail

image=hostiso-exporter
listen=0.0.0.0:9933
volume=nova_compute
host_cpus=
print=0
usage() { sed -n '2,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --host-cpus) host_cpus=${2:-}; shift 2 ;;
    --image) image=${2:-}; shift 2 ;;
    --listen) listen=${2:-}; shift 2 ;;
    --volume) volume=${2:-}; shift 2 ;;
    --print) print=1; shift ;;
    *) usage ;;
  esac
done
if ! [[ $host_cpus =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]]; then
  echo "run-hostiso-exporter.sh: --host-cpus wants a CPU list like 0-1,24-25" >&2
  exit 2
fi

cmd=(docker run -d --name hostiso_exporter --restart unless-stopped
  --read-only --cap-drop=ALL --security-opt no-new-privileges
  --pid=host --network=host
  --cpuset-cpus="$host_cpus"
  -v /proc:/host/proc:ro
  -v /sys:/host/sys:ro
  -v /:/host/root:ro,rslave
  -v "$volume":/host/root/var/lib/nova:ro
  -v /etc/hostiso-exporter/nova:/etc/nova:ro
  -v /run/libvirt:/run/libvirt:ro
  "$image"
  --path.procfs=/host/proc --path.sysfs=/host/sys --path.rootfs=/host/root
  --nova.config=/etc/nova/nova.conf
  "--libvirt.uri=qemu:///system?socket=/run/libvirt/libvirt-sock-ro"
  --web.listen-address="$listen")

if [ "$print" -eq 1 ]; then
  printf '%q ' "${cmd[@]}"
  echo
  exit 0
fi
# The volume's mount point inside the read-only view of the host's root must
# exist on the host (an empty directory; Kolla keeps the data in the volume).
mkdir -p /var/lib/nova
exec "${cmd[@]}"
