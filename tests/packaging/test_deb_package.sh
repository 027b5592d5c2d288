#!/usr/bin/env bash
# Builds the Debian package with CPack, checks its contents, installs it with
# apt into a clean debootstrapped Debian 12 root (runtime libraries come from
# the Debian archive), runs the installed exporter there as the package's
# `hostiso` user and scrapes it from the host, and verifies the installed
# systemd unit with systemd-analyze; then boots the root with systemd-nspawn
# (systemd as PID 1 of the container, host network) so that the installed,
# enabled unit starts the exporter with all its sandboxing, and checks from
# the host the scrape, the process' uid, capabilities, no_new_privs, seccomp,
# nice and scheduling policy; boots it again with the shipped sched drop-in
# (CAP_BPF+CAP_PERFMON, bpf()) and checks the sched collector loads with
# exactly those capabilities; finally purges the package.
#
# Usage: tests/packaging/test_deb_package.sh <build_dir>
# Needs root, network access to the Debian archive, cpack, dpkg-deb,
# debootstrap (first run only: the root is cached as a tarball under
# /var/cache/hostiso-test), curl, python3, systemd-analyze, systemd-nspawn
# (Debian package systemd-container), nsenter.
# Exit 77 (skip) when a prerequisite is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bootstrap_lib.sh
source "$here/bootstrap_lib.sh"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# grep -q stops reading at the first match, and under pipefail the writer's
# SIGPIPE then fails the pipeline at random: has() reads its input to the end.
has() { grep "$@" >/dev/null; }

[ $# -eq 1 ] || { echo "usage: $0 <build_dir>" >&2; exit 2; }
build_dir=$(cd "$1" && pwd)

[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mount)"
for tool in cpack dpkg-deb dpkg-shlibdeps readelf ldconfig debootstrap chroot mount umount curl python3 flock tar \
            systemd-analyze systemd-nspawn nsenter setsid; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done
[ -x "$build_dir/exporter/hostiso_exporter" ] || fail "$build_dir/exporter/hostiso_exporter not built"

work=$(mktemp -d /tmp/hostiso-deb-test.XXXXXX)
root="$work/root"
exporter_pid=""
nspawn_pid=""
machine="hostiso-test-$$"
mounted=()

unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
  done
  mounted=()
}
mount_root() {
  mount --bind "$HOSTISO_TEST_CACHE/apt-archives" "$root/var/cache/apt/archives"; mounted+=("$root/var/cache/apt/archives")
  mount -t proc -o ro,nosuid,nodev,noexec proc "$root/proc"; mounted+=("$root/proc")
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"; mounted+=("$root/sys")
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"; mounted+=("$root/tmp")
}

cleanup() {
  local rc=$?
  if [ -n "$exporter_pid" ] && kill -0 "$exporter_pid" 2>/dev/null; then
    kill "$exporter_pid" 2>/dev/null || true
    wait "$exporter_pid" 2>/dev/null || true
  fi
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null || true
    local _
    for _ in $(seq 1 40); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "/run/systemd/nspawn/propagate/$machine" 2>/dev/null || true
  unmount_all
  # Never rm -rf through a mount point that failed to unmount.
  if ! grep -q " $work/" /proc/self/mountinfo; then
    rm -rf "$work"
  else
    echo "WARNING: mounts left under $work, not removed" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------- 1. package
echo "== cpack -G DEB in $build_dir"
t0=$SECONDS
(cd "$build_dir" && cpack -G DEB -B "$work/pkg") >"$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log"; fail "cpack failed"; }
debs=("$work"/pkg/hostiso-exporter_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then fail "expected one hostiso-exporter_*.deb in $work/pkg"; fi
deb=${debs[0]}
echo "   $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB in $((SECONDS - t0)) s"

# ------------------------------------------------------------- 2. contents
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/contents"
need=(
  /usr/bin/hostiso_exporter
  /lib/systemd/system/hostiso-exporter.service
  /lib/systemd/system/hostiso-exporter.socket
  /etc/default/hostiso-exporter
  /usr/share/hostiso-exporter/alerts/hostiso.rules.yml
)
for f in "${need[@]}"; do
  grep -qxF "$f" "$work/contents" || fail "package lacks $f"
done
grep -qE '^/usr/share/hostiso-exporter/dashboards/[^/]+\.json$' "$work/contents" \
  || fail "package has no dashboards/*.json"
grep -qE '^/usr/share/hostiso-exporter/dashboards/provisioning/' "$work/contents" \
  || fail "package lacks dashboards/provisioning/"
dpkg-deb -c "$deb" | grep -E ' \./usr/bin/hostiso_exporter$' | has '^-rwxr-xr-x root/root' \
  || fail "/usr/bin/hostiso_exporter is not -rwxr-xr-x root/root"
[ "$(dpkg-deb -f "$deb" Package)" = hostiso-exporter ] || fail "wrong Package field"
depends=$(dpkg-deb -f "$deb" Depends)
echo "   Depends: $depends"
# dpkg-shlibdeps must have turned every library the binary links to into a
# dependency: map each DT_NEEDED soname to its Debian package on this host.
needed=$(LC_ALL=C readelf -d "$build_dir/exporter/hostiso_exporter" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "no DT_NEEDED entries in the binary?"
for so in $needed; do
  path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|x86_64|=>/ && !found {print $NF; found = 1}')
  [ -n "$path" ] || fail "cannot resolve $so on this host"
  pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null || \
        dpkg -S "/usr$path" 2>/dev/null || dpkg -S "${path#/usr}" 2>/dev/null || true)
  pkg=${pkg%%:*}
  [ -n "$pkg" ] || fail "no package owns $path ($so)"
  # Some packages depend under a virtual name (libspdlog1.10 -> libspdlog1.10-fmt9).
  covered=""
  while read -r dep; do
    case $dep in "$pkg" | "$pkg"-*) covered=1 ;; esac
  done < <(sed 's/ *([^)]*)//g; s/ *| */\n/g; s/, */\n/g' <<<"$depends")
  [ -n "$covered" ] || fail "Depends lacks $pkg (for $so): $depends"
done
echo "   every DT_NEEDED library is covered: $(tr '\n' ' ' <<<"$needed")"
dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | sed 's|^\./||' >"$work/control-files"
for f in postinst prerm postrm conffiles; do
  grep -qxF "$f" "$work/control-files" || fail "control archive lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles | has -xF /etc/default/hostiso-exporter \
  || fail "/etc/default/hostiso-exporter is not a conffile"
echo "   contents OK ($(wc -l <"$work/contents") entries)"

# ------------------------------------------------------------- 3. clean root
tarball=$(hostiso_bookworm_tarball)
echo "== fresh Debian 12 minbase root from $tarball"
mkdir -p "$root"
tar --numeric-owner -xf "$tarball" -C "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Keep downloaded .debs between runs.
mkdir -p "$HOSTISO_TEST_CACHE/apt-archives/partial"
mount_root
grep -q " $root/proc " /proc/self/mountinfo || fail "proc not mounted in the root"

cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

echo "== apt-get install ./$(basename "$deb") in the root"
t0=$SECONDS
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log"; fail "apt-get update in the root failed"; }
# As on a Nova compute host: groups nova and libvirt exist before the package.
in_root groupadd --system nova
in_root groupadd --system libvirt
# systemd first (as on a real host; not running, policy-rc.d keeps apt from
# starting anything): the unit is then verified against the root's own
# systemd units below.
in_root apt-get install -y --no-install-recommends systemd >>"$work/apt.log" 2>&1 || {
  tail -20 "$work/apt.log"; fail "apt-get install systemd in the root failed"; }
in_root apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")" >>"$work/apt.log" 2>&1 || {
  tail -40 "$work/apt.log"; fail "apt-get install of the package failed"; }
echo "   installed in $((SECONDS - t0)) s"
# shellcheck disable=SC2016 # dpkg-query's own ${Status} format
in_root dpkg-query -W -f='${Status}\n' hostiso-exporter | has -x 'install ok installed' \
  || fail "dpkg does not report hostiso-exporter installed"

# postinst effects: system user, unit enabled offline, nothing started.
in_root getent passwd hostiso >"$work/passwd" || fail "postinst did not create user hostiso"
uid=$(cut -d: -f3 "$work/passwd")
[ "$uid" -lt 1000 ] || fail "hostiso is not a system user (uid $uid)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/hostiso-exporter.service" ] \
  || fail "postinst did not enable the unit"
groups=" $(in_root id -nG hostiso) "
[[ $groups == *" nova "* ]] || fail "postinst did not add hostiso to group nova (groups:$groups)"
[[ $groups != *" libvirt "* ]] || fail "postinst added hostiso to group libvirt (read-write libvirt access)"
echo "   user hostiso uid $uid, groups:$groups; unit enabled"

# ------------------------------------------------------------- 4. run it
version=$(in_root /usr/bin/hostiso_exporter --version 2>&1) || fail "--version failed: $version"
echo "   --version: $(head -1 <<<"$version")"
[ -n "$version" ] || fail "--version printed nothing"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== exporter in the root as user hostiso on 127.0.0.1:$port"
chroot --userspec=hostiso:hostiso "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
  /usr/bin/hostiso_exporter --web.listen-address="127.0.0.1:$port" \
  --path.procfs=/proc --path.sysfs=/sys >"$work/exporter.log" 2>&1 &
exporter_pid=$!
hostiso_wait_scrape "$exporter_pid" "$port" "$work/metrics.txt" "$work/exporter.log" 50
hostiso_require_series "$work/metrics.txt" hostiso_build_info hostiso_cpu_seconds_total
echo "   scrape OK: $(grep -c '^hostiso_' "$work/metrics.txt") hostiso_ samples, $(grep -c '^hostiso_cpu_seconds_total' "$work/metrics.txt") cpu_seconds series"
kill "$exporter_pid"; wait "$exporter_pid" 2>/dev/null || true; exporter_pid=""

# ------------------------------------------------------------- 5. unit file
# --root makes systemd-analyze resolve the unit, ExecStart's binary and the
# units it refers to inside the installed root rather than on this host.
echo "== systemd-analyze verify --root=<root> /lib/systemd/system/hostiso-exporter.service"
if ! systemd-analyze verify --root="$root" /lib/systemd/system/hostiso-exporter.service >"$work/verify.log" 2>&1; then
  cat "$work/verify.log"; fail "systemd-analyze verify reported problems"
fi
# It exits 0 on unknown keys and out-of-range values: any message is a failure.
if [ -s "$work/verify.log" ]; then cat "$work/verify.log"; fail "systemd-analyze verify printed warnings"; fi
echo "   verify OK"

# ------------------------------------------------------------- 6. boot it
# systemd-nspawn boots the root's systemd; postinst enabled the unit, so it
# starts at boot with its sandboxing (User=, ProtectSystem=, seccomp,
# CapabilityBoundingSet=, Nice=, CPUSchedulingPolicy=...). The container has
# its own PID namespace (the exporter sees the container's processes only)
# and the host's network. --register=no --keep-unit: no systemd/machined
# needed on the host.
unmount_all
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The admin's way to pass flags: the conffile read by EnvironmentFile=.
printf 'HOSTISO_EXPORTER_ARGS="--web.listen-address=127.0.0.1:%s"\n' "$port" >"$root/etc/default/hostiso-exporter"
# boot_unit OUT [NSPAWN_ARGS...]: boots the root until the unit's exporter
# answers a scrape (written to OUT); sets nspawn_pid, init_pid.
boot_unit() {
  local out=$1 t0=$SECONDS ok=""
  shift
  setsid systemd-nspawn -D "$root" -M "$machine" -b --register=no --keep-unit \
    --console=passive "$@" >"$work/nspawn.log" 2>&1 &
  nspawn_pid=$!
  for _ in $(seq 1 120); do
    kill -0 "$nspawn_pid" 2>/dev/null || { cat "$work/nspawn.log"; fail "systemd-nspawn exited"; }
    if curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" -o "$out" 2>/dev/null; then
      ok=1; break
    fi
    sleep 0.5
  done
  init_pid=$(pgrep -P "$nspawn_pid" | sed -n 1p || true)
  if [ -z "$ok" ]; then
    cat "$work/nspawn.log"
    [ -n "$init_pid" ] && in_ct journalctl -u hostiso-exporter.service --no-pager 2>&1 | tail -30
    fail "the unit's exporter did not answer on 127.0.0.1:$port"
  fi
  echo "   answered $((SECONDS - t0)) s after boot started"
}
poweroff_unit() {
  kill -TERM "$nspawn_pid"
  for _ in $(seq 1 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$nspawn_pid" 2>/dev/null && fail "container did not power off within 30 s"
  wait "$nspawn_pid" 2>/dev/null || true
  nspawn_pid=""
  rm -rf "/run/systemd/nspawn/propagate/$machine" 2>/dev/null || true
}
in_ct() { nsenter --target "$init_pid" --mount --pid -- "$@"; }
# unit_exporter_status: /proc/PID/status of the unit's exporter, seen from the host.
unit_exporter_status() {
  local xpid
  xpid=$(pgrep -f "^/usr/bin/hostiso_exporter --web.listen-address=127.0.0.1:$port\$" | sed -n 1p || true)
  [ -n "$xpid" ] || fail "exporter process not found from the host"
  cat "/proc/$xpid/status"
}
echo "== systemd-nspawn -b: the enabled unit on 127.0.0.1:$port"
boot_unit "$work/metrics-unit.txt"
grep -qE '^hostiso_build_info[{ ]' "$work/metrics-unit.txt" || fail "hostiso_build_info missing (unit)"
grep -qE '^hostiso_cpu_seconds_total[{ ]' "$work/metrics-unit.txt" || fail "hostiso_cpu_seconds_total missing (unit)"
# No libvirtd here: the libvirt collector fails (hostiso_libvirt_up 0); the
# default keeps no capabilities, so sched reports it cannot load BPF (its
# opt-in is a separate variant); every other collector must succeed.
if grep -E '^hostiso_collector_success\{' "$work/metrics-unit.txt" | grep -vE 'collector="(libvirt|sched)"' | has -E ' 0$'; then
  grep -E '^hostiso_collector_success\{' "$work/metrics-unit.txt"
  fail "a collector failed under the unit's sandbox"
fi
[ "$(in_ct systemctl is-active hostiso-exporter.service)" = active ] || fail "unit not active"
[ "$(in_ct systemctl show -p NRestarts --value hostiso-exporter.service)" = 0 ] || fail "unit restarted"
st=$(unit_exporter_status)
xpid=$(awk '/^Pid:/ {print $2}' <<<"$st")
check_status() { grep -qE "$1" <<<"$st" || fail "unit's exporter: $2 ($(grep -E "^${1%%:*}" <<<"$st" | sed -n 1p))"; }
check_status "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid\$" "not running as hostiso ($uid)"
check_status '^CapEff:\s+0+$' "has effective capabilities"
check_status '^CapBnd:\s+0+$' "bounding set not empty"
check_status '^CapAmb:\s+0+$' "has ambient capabilities"
check_status '^NoNewPrivs:\s+1$' "no_new_privs not set"
check_status '^Seccomp:\s+2$' "no seccomp filter"
# /proc/PID/stat: field 19 nice, field 41 policy (3 = SCHED_BATCH)
read -r nice policy < <(sed 's/^.*) //' "/proc/$xpid/stat" | awk '{print $17, $39}')
[ "$nice" = 19 ] || fail "unit's exporter nice $nice, want 19"
[ "$policy" = 3 ] || fail "unit's exporter policy $policy, want 3 (SCHED_BATCH)"
echo "   unit OK: uid $uid, CapEff/CapBnd/CapAmb 0, NoNewPrivs 1, seccomp, nice 19, SCHED_BATCH, NRestarts 0"
poweroff_unit

# ------------------------------------------------------------- 6b. sched opt-in
# The documented opt-in for the sched collector: the shipped drop-in, in the
# booted unit. The container's own bounding set and seccomp filter must let
# CAP_BPF, CAP_PERFMON and bpf() through first (a host's systemd has no such
# outer limits). The collector must load and every other collector still
# succeed; the exporter holds exactly those two capabilities.
dropin_dir="$root/etc/systemd/system/hostiso-exporter.service.d"
install -D -m 0644 "$root/usr/share/doc/hostiso-exporter/examples/hostiso-exporter-sched.conf" \
  "$dropin_dir/sched.conf"
echo "== systemd-nspawn -b: the unit with the sched drop-in"
boot_unit "$work/metrics-sched.txt" --capability=CAP_BPF,CAP_PERFMON --system-call-filter=bpf
if ! has -E '^hostiso_collector_success\{collector="sched"\} 1$' "$work/metrics-sched.txt"; then
  grep -E '^hostiso_collector_success\{' "$work/metrics-sched.txt" || true
  in_ct journalctl -u hostiso-exporter.service --no-pager 2>&1 | tail -20
  fail "sched collector did not load under the drop-in"
fi
if grep -E '^hostiso_collector_success\{' "$work/metrics-sched.txt" | grep -vE 'collector="libvirt"' | has -E ' 0$'; then
  grep -E '^hostiso_collector_success\{' "$work/metrics-sched.txt"
  fail "a collector failed under the sched drop-in"
fi
has -E '^hostiso_cpu_held_seconds_total\{' "$work/metrics-sched.txt" || fail "no hostiso_cpu_held_seconds_total under the drop-in"
st=$(unit_exporter_status)
# CAP_PERFMON is bit 38, CAP_BPF bit 39: 0x000000c000000000.
check_status '^CapEff:\s+000000c000000000$' "effective capabilities not exactly CAP_BPF+CAP_PERFMON"
check_status '^CapBnd:\s+000000c000000000$' "bounding set not exactly CAP_BPF+CAP_PERFMON"
check_status '^Uid:\s+'"$uid"'\s' "not running as hostiso ($uid)"
check_status '^NoNewPrivs:\s+1$' "no_new_privs not set"
check_status '^Seccomp:\s+2$' "no seccomp filter"
echo "   sched drop-in OK: collector sched 1, CapEff/CapBnd = CAP_BPF+CAP_PERFMON, NoNewPrivs 1, seccomp"
poweroff_unit
rm -rf "$dropin_dir"
mount_root

# ------------------------------------------------------------- 7. removal
in_root apt-get purge -y hostiso-exporter >>"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log"; fail "purge failed"; }
[ ! -e "$root/usr/bin/hostiso_exporter" ] || fail "binary left after purge"
[ ! -e "$root/etc/default/hostiso-exporter" ] || fail "conffile left after purge"
! in_root getent passwd hostiso >/dev/null || fail "user hostiso left after purge"
echo "   purge OK"
echo "PASS"
