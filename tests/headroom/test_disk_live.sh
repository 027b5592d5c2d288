#!/usr/bin/env bash
# Disk headroom and layout on real filesystems: ext4 on loop devices, the root
# filesystem, a nearly full filesystem and a real LVM volume group on a loop
# device, each checked against statvfs (python3 os.statvfs, the same numbers
# as `df -B1` Avail/Size) and `vgs`.
#
# Usage: test_disk_live.sh EXPORTER_BINARY
# Needs root, loop devices, mkfs.ext4, LVM tools (scripts/install-deps.sh test).
# Exit 77 (skip) with the reason when any of it is missing.
set -euo pipefail

exporter=${1:?usage: test_disk_live.sh EXPORTER_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

[ -x "$exporter" ] || fail "exporter binary $exporter not found"
[ "$(id -u)" -eq 0 ] || skip "needs root (loop devices, mount, LVM)"
for tool in losetup mkfs.ext4 mount umount fallocate pvcreate vgcreate vgremove pvremove vgs curl python3; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps.sh test)"
done
[ -e /dev/loop-control ] || skip "no /dev/loop-control: kernel without loop device support"
losetup -f >/dev/null 2>&1 || skip "no free loop device"
export LVM_SUPPRESS_FD_WARNINGS=1

tmp=$(mktemp -d /tmp/hostiso-headroom-disk.XXXXXX)
vg="hostiso_hr_$$"
loops=()
mounts=()
rootdir=""
exporter_pid=""

cleanup() {
  local rc=$?
  stop_exporter
  if vgs "$vg" >/dev/null 2>&1; then vgremove -qf "$vg" >/dev/null 2>&1 || true; fi
  local m l
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for l in "${loops[@]}"; do
    pvremove -qf "$l" >/dev/null 2>&1 || true
    losetup -d "$l" 2>/dev/null || true
  done
  [ -n "$rootdir" ] && rm -rf "$rootdir"
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

MiB=1048576
# Free space can move by a few blocks between our statvfs and the exporter's
# (ext4 is idle here; nothing writes): 1 MiB tolerance.
tol=$MiB

# new_loop SIZE NAME: a sparse file attached to a free loop device, in
# $loop_dev (not echoed: a command substitution would lose the cleanup list).
new_loop() {
  truncate -s "$1" "$tmp/$2.img"
  loop_dev=$(losetup -f --show "$tmp/$2.img") || fail "losetup $2"
  loops+=("$loop_dev")
}

# new_fs SIZE NAME: ext4 on a loop device, mounted at $tmp/NAME.
new_fs() {
  local dev
  new_loop "$1" "$2"
  dev=$loop_dev
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" >/dev/null
  mkdir -p "$tmp/$2"
  mount "$dev" "$tmp/$2"
  mounts+=("$tmp/$2")
}

# statvfs PATH: "size avail" in bytes, as df -B1 reports Size and Avail.
statvfs() {
  python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); print(s.f_blocks*s.f_frsize, s.f_bavail*s.f_frsize)' "$1"
}

write_nova() {
  cat >"$1"
}

common_flags=(--no-collector.libvirt --no-collector.census --log.level info)

# A directory on the root filesystem (same st_dev as /), for the layout
# violation: /tmp may be a tmpfs on CI machines.
root_dev=$(stat -c %d /)
for base in /var/tmp /root /opt /; do
  if [ -d "$base" ] && [ -w "$base" ] && [ "$(stat -c %d "$base")" = "$root_dev" ]; then
    rootdir=$(mktemp -d "${base%/}/hostiso-headroom-root.XXXXXX")
    break
  fi
done
[ -n "$rootdir" ] || skip "no writable directory on the root filesystem"

echo "== 1. instances_path on its own loop-mounted ext4: no layout violation, headroom = free - reserved"
new_fs 256M inst
mkdir -p "$tmp/inst/instances"
write_nova "$tmp/nova-own.conf" <<EOF
[DEFAULT]
instances_path = $tmp/inst/instances
reserved_host_disk_mb = 64
[libvirt]
images_type = qcow2
EOF
start_exporter own --nova.config "$tmp/nova-own.conf" "${common_flags[@]}"
scrape
read -r size avail < <(statvfs "$tmp/inst/instances")
echo "statvfs $tmp/inst/instances: size=$size avail=$avail; df -B1:"
df -B1 "$tmp/inst/instances" | sed 's/^/  /'
inst="role=\"instances\",path=\"$tmp/inst/instances\""
check_within "instances size" "$(need "hostiso_disk_size_bytes{$inst}")" "$size" 0
check_within "instances free" "$(need "hostiso_disk_free_bytes{$inst}")" "$avail" "$tol"
check_within "reserved" "$(need hostiso_disk_reserved_bytes)" $((64 * MiB)) 0
check_within "headroom = free - reserved" "$(need hostiso_disk_reserve_headroom_bytes)" $((avail - 64 * MiB)) "$tol"
read -r rsize ravail < <(statvfs /)
check_within "root size" "$(need 'hostiso_disk_size_bytes{role="root",path="/"}')" "$rsize" 0
[ "$(need 'hostiso_violating_subjects{kind="disk_layout"}')" = 0 ] || fail "disk_layout violation on a filesystem of its own"
[ "$(need 'hostiso_violating_subjects{kind="disk_reserve_breach"}')" = 0 ] || fail "unexpected disk_reserve_breach"
[ "$(need 'hostiso_collector_success{collector="disk"}')" = 1 ] || fail "disk collector failed"
echo "ok: no disk_layout, no disk_reserve_breach, collector success 1"

echo "== 2. nearly full (fallocate): disk_reserve_breach, then cleared"
read -r size avail < <(statvfs "$tmp/inst/instances")
fill=$((avail - 16 * MiB))
fallocate -l "$fill" "$tmp/inst/instances/filler"
read -r size avail < <(statvfs "$tmp/inst/instances")
echo "after fallocate -l $fill: avail=$avail"
wait_for 'hostiso_violating_subjects{kind="disk_reserve_breach"}' 1
subject="instances_path $tmp/inst/instances"
[ "$(val "hostiso_violation_info{kind=\"disk_reserve_breach\",subject=\"$subject\",cpus=\"\"}")" = 1 ] ||
  fail "no disk_reserve_breach info series for '$subject'"
check_within "headroom (negative)" "$(need hostiso_disk_reserve_headroom_bytes)" $((avail - 64 * MiB)) "$tol"
echo "ok: disk_reserve_breach subject '$subject'"
rm -f "$tmp/inst/instances/filler"
wait_for 'hostiso_violating_subjects{kind="disk_reserve_breach"}' 0
[ "$(need 'hostiso_violations_total{kind="disk_reserve_breach"}')" = 1 ] || fail "breach onsets should be 1"
echo "ok: breach cleared after rm, onsets total 1"
stop_exporter

echo "== 3. instances_path on the root filesystem ($rootdir): disk_layout violation"
write_nova "$tmp/nova-root.conf" <<EOF
[DEFAULT]
instances_path = $rootdir
reserved_host_disk_mb = 0
EOF
start_exporter root --nova.config "$tmp/nova-root.conf" "${common_flags[@]}"
scrape
subject="instances_path $rootdir"
[ "$(val "hostiso_violation_info{kind=\"disk_layout\",subject=\"$subject\",cpus=\"\"}")" = 1 ] ||
  fail "no disk_layout violation for '$subject' (root st_dev $root_dev)"
[ "$(need 'hostiso_violating_subjects{kind="disk_layout"}')" = 1 ] || fail "expected exactly one disk_layout violation"
# The root filesystem is shared with everything else on the machine (builds
# write hundreds of MiB a second). Scrapes never wait for a measurement: each
# asks the disk worker for one (at most one a second) and the next scrape
# serves it. So: statvfs(), a scrape that triggers a measurement, 1.2 s, a
# scrape that serves it, statvfs(); retry until the served figure falls inside
# that bracket (+/- 1 MiB).
series="hostiso_disk_free_bytes{role=\"instances\",path=\"$rootdir\"}"
for try in $(seq 1 20); do
  read -r size a1 < <(statvfs "$rootdir")
  scrape
  sleep 1.2
  scrape
  read -r size a2 < <(statvfs "$rootdir")
  got=$(need "$series")
  lo=$((a1 < a2 ? a1 : a2))
  hi=$((a1 > a2 ? a1 : a2))
  if [ "$got" -ge $((lo - tol)) ] && [ "$got" -le $((hi + tol)) ]; then break; fi
  [ "$try" = 20 ] && fail "root-fs instances free $got outside [$lo, $hi] +/- $tol in 20 tries"
  sleep 0.2
done
echo "ok: root-fs instances free $got within statvfs bracket [$lo, $hi] +/- $tol (try $try)"
echo "ok: disk_layout subject '$subject'"
stop_exporter

echo "== 4. LVM: volume group on a loop device, snapshots_directory on the root filesystem"
new_loop 128M pv
pv=$loop_dev
pvcreate -q "$pv" >/dev/null
vgcreate -q "$vg" "$pv" >/dev/null
read -r vsize vfree < <(vgs --noheadings --units b --nosuffix -o vg_size,vg_free "$vg")
echo "vgs $vg: size=$vsize free=$vfree"
write_nova "$tmp/nova-lvm.conf" <<EOF
[DEFAULT]
instances_path = $tmp/inst/instances
reserved_host_disk_mb = 16
[libvirt]
images_type = lvm
images_volume_group = $vg
snapshots_directory = $rootdir/snapshots
EOF
start_exporter lvm --nova.config "$tmp/nova-lvm.conf" "${common_flags[@]}"
vgsel="role=\"volume_group\",path=\"$vg\""
for i in $(seq 1 50); do
  scrape
  [ -n "$(val "hostiso_disk_size_bytes{$vgsel}")" ] && break
  sleep 0.2
done
check_within "VG size" "$(need "hostiso_disk_size_bytes{$vgsel}")" "$vsize" 0
check_within "VG free" "$(need "hostiso_disk_free_bytes{$vgsel}")" "$vfree" 0
check_within "LVM headroom = VG free - reserved" "$(need hostiso_disk_reserve_headroom_bytes)" $((vfree - 16 * MiB)) 0
[ "$(val "hostiso_violation_info{kind=\"disk_layout\",subject=\"snapshots_directory $rootdir/snapshots\",cpus=\"\"}")" = 1 ] ||
  fail "no disk_layout violation for the snapshot directory on the root filesystem"
[ -z "$(val "hostiso_violation_info{kind=\"disk_layout\",subject=\"images_volume_group $vg\",cpus=\"\"}")" ] ||
  fail "the VG on its own loop device was reported as sharing the root disk"
[ "$(need 'hostiso_violating_subjects{kind="disk_reserve_breach"}')" = 0 ] || fail "unexpected LVM breach"
[ "$(need 'hostiso_collector_success{collector="disk"}')" = 1 ] || fail "disk collector failed on LVM"
echo "ok: VG figures match vgs; snapshot dir on root flagged; VG not flagged"

echo "== 4b. LVM reservation larger than the VG's free space: breach (nova.conf edited live)"
sed -i 's/^reserved_host_disk_mb = 16$/reserved_host_disk_mb = 1024/' "$tmp/nova-lvm.conf"
wait_for 'hostiso_violating_subjects{kind="disk_reserve_breach"}' 1
[ "$(val "hostiso_violation_info{kind=\"disk_reserve_breach\",subject=\"images_volume_group $vg\",cpus=\"\"}")" = 1 ] ||
  fail "no breach subject for the VG"
check_within "LVM headroom" "$(need hostiso_disk_reserve_headroom_bytes)" $((vfree - 1024 * MiB)) 0
echo "ok: breach subject 'images_volume_group $vg'"
stop_exporter

echo "== 5. missing volume group: collector success 0, one log line, the rest still served"
write_nova "$tmp/nova-novg.conf" <<EOF
[DEFAULT]
instances_path = $tmp/inst/instances
[libvirt]
images_type = lvm
images_volume_group = hostiso_no_such_vg_$$
EOF
start_exporter novg --nova.config "$tmp/nova-novg.conf" "${common_flags[@]}"
wait_for 'hostiso_collector_success{collector="disk"}' 0
for i in 1 2 3 4 5; do scrape; done
need 'hostiso_disk_size_bytes{role="root",path="/"}' >/dev/null
[ "$(need 'hostiso_collector_success{collector="memory"}')" = 1 ] || fail "memory collector affected"
n=$(grep -c "hostiso_no_such_vg_$$" "$exporter_log" || true)
[ "$n" = 1 ] || fail "expected one log line about the missing VG, got $n"
grep "hostiso_no_such_vg_$$" "$exporter_log" | sed 's/^/  log: /'
stop_exporter

echo "PASS: disk headroom live test"
