#!/usr/bin/env bash
# Builds docker/Dockerfile with buildah (vfs storage, chroot isolation: no
# container engine or daemon needed), then runs the image's binary:
#   1. --version, as the image's user (must be uid 9933, not root);
#   2. the image's own ENTRYPOINT + CMD (the documented default flags), with
#      the host's /proc, /sys and / mounted read-only at /host/proc,
#      /host/sys and /host/root
#      as docker/README.md documents, listening on a free 127.0.0.1 port
#      (chroot isolation shares the host's network and PID namespace), and
#      scrapes /metrics from the host;
#   3. the hardened `podman run` of docker/README.md (--read-only,
#      --cap-drop=ALL, no-new-privileges, --pid=host, --cpuset-cpus, host
#      /proc and /sys read-only) with the runc runtime, scrapes it, and checks
#      from the host that the process runs as uid 9933 with no capabilities,
#      NoNewPrivs and the requested CPU set. (crun refuses this machine's
#      hybrid cgroup v1 layout; runc works. No bridge networking here, so this
#      run uses --network=host and a 127.0.0.1 listen address instead of -p.)
# Everything lives in a container store of its own (vfs driver), by default
# /var/cache/hostiso-test/containers (HOSTISO_CONTAINERS_STORE), so that the
# test neither sees nor prunes anybody else's images. In it: the
# debian:bookworm base, made locally with debootstrap when missing (the tree
# is cached under /var/cache/hostiso-test), the build-deps stage tagged as
# localhost/hostiso-exporter:build-deps (the apt layer, reused by the next
# run), and the image, localhost/hostiso-exporter:test. Dangling images of
# earlier runs are pruned (vfs copies every layer in full: ~0.8 GB each) and
# containers removed on exit. To look at the image afterwards:
#   buildah --storage-driver vfs --root /var/cache/hostiso-test/containers/root \
#     --runroot /run/hostiso-test-containers images
#
# Usage: tests/packaging/test_docker_image.sh [source_dir]   (default: repo root)
# Exit 77 (skip) when buildah, podman, runc or debootstrap is missing or not root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:-$here/../..}" && pwd)
# shellcheck source=bootstrap_lib.sh
source "$here/bootstrap_lib.sh"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# grep -q stops reading at the first match, and under pipefail the writer's
# SIGPIPE then fails the pipeline at random: has() reads its input to the end.
has() { grep "$@" >/dev/null; }

[ "$(id -u)" -eq 0 ] || skip "needs root (buildah vfs storage, chroot isolation)"
for tool in buildah podman runc debootstrap curl python3 tar flock setsid; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps.sh test)"
done

store=${HOSTISO_CONTAINERS_STORE:-$HOSTISO_TEST_CACHE/containers}
mkdir -p "$store/root"
S=(--storage-driver vfs --root "$store/root" --runroot /run/hostiso-test-containers)
# One run at a time per store (tags, prune).
exec 8>"$store/.lock"
flock 8
# The store is this test's own: drop working containers a killed build left
# behind, then untagged images, layer by layer (each prune pass removes the
# images nothing else builds on). Kept: base, build-deps, test.
prune_store() {
  buildah "${S[@]}" rm --all >/dev/null 2>&1 || true
  local n prev=-1
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
    n=$(buildah "${S[@]}" images -a -q 2>/dev/null | wc -l)
    [ "$n" -eq "$prev" ] && break
    prev=$n
    buildah "${S[@]}" rmi --prune >/dev/null 2>&1 || true
  done
}
prune_store
base=docker.io/library/debian:bookworm
image=localhost/hostiso-exporter:test
work=$(mktemp -d /tmp/hostiso-image-test.XXXXXX)
ctr=""
run_pid=""
port=""
pctr=""

cleanup() {
  local rc=$?
  if [ -n "$run_pid" ]; then
    kill -TERM -- "-$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  if [ -n "$port" ]; then
    # Anything still serving our port was started by this test.
    local p
    for p in $(pgrep -f -- "--web.listen-address=127.0.0.1:$port" || true); do
      kill "$p" 2>/dev/null || true
    done
  fi
  if [ -n "$ctr" ]; then buildah "${S[@]}" rm "$ctr" >/dev/null 2>&1 || true; fi
  if [ -n "$pctr" ]; then podman "${S[@]}" --runtime runc rm -f -t 2 "$pctr" >/dev/null 2>&1 || true; fi
  prune_store
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ base image
if buildah "${S[@]}" images --format '{{.Name}}:{{.Tag}}' | has -xF "$base"; then
  echo "== base $base present in the vfs store"
else
  tarball=$(hostiso_bookworm_tarball)
  echo "== importing $tarball as $base"
  podman "${S[@]}" import --change 'CMD ["bash"]' "$tarball" "$base" >/dev/null \
    || fail "podman import of the debootstrap tree failed"
fi

# ------------------------------------------------------------ build
# Build from a snapshot of the sources (no .git, no build trees), so a build
# tree being written meanwhile does not end up in the context.
mkdir -p "$work/ctx"
tar -C "$src" --exclude=./.git --exclude='./build' --exclude='./build-*' \
  --exclude='*/__pycache__' -cf - . | tar -C "$work/ctx" -xf -
# Explicit, modest ulimits for every container the test runs: the defaults
# (podman: RLIMIT_NOFILE 1048576; buildah: values derived from its own limits)
# can exceed what this machine lets root set, failing with "setting
# RLIMIT_NPROC/NOFILE ... operation not permitted".
nofile=$(ulimit -Hn); if [ "$nofile" = unlimited ] || [ "$nofile" -gt 16384 ]; then nofile=16384; fi
ulimits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)
bud=(buildah "${S[@]}" bud --isolation chroot --layers --pull=never "${ulimits[@]}"
     --ignorefile "$work/ctx/docker/Dockerfile.dockerignore" -f "$work/ctx/docker/Dockerfile")
echo "== buildah bud -f docker/Dockerfile"
t0=$SECONDS
if ! "${bud[@]}" --target build-deps -t localhost/hostiso-exporter:build-deps "$work/ctx" >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  fail "build-deps stage failed"
fi
deps_s=$((SECONDS - t0))
if ! "${bud[@]}" -t "$image" "$work/ctx" >>"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  fail "image build failed"
fi
echo "   build-deps stage ${deps_s} s, $(grep -c 'Using cache' "$work/build.log" || true) steps from cache"
grep -E '^runtime packages:' "$work/build.log" | sed 's/^/   /' || true
build_s=$((SECONDS - t0))
size=$(buildah "${S[@]}" images --format '{{.Size}}' "$image" | sed -n 1p)
echo "   built $image in ${build_s} s, size $size"

# ------------------------------------------------------------ image config
buildah "${S[@]}" inspect --type image "$image" >"$work/inspect.json"
mapfile -t default_cmd < <(python3 - "$work/inspect.json" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))["OCIv1"]["config"]
if cfg.get("User") != "9933:9933":
    sys.exit("image user is %r, want 9933:9933" % cfg.get("User"))
for arg in (cfg.get("Entrypoint") or []) + (cfg.get("Cmd") or []):
    print(arg)
PY
) || fail "image config check failed"
[ "${default_cmd[0]:-}" = /usr/bin/hostiso_exporter ] || fail "ENTRYPOINT is not /usr/bin/hostiso_exporter: ${default_cmd[*]}"
printf '%s\n' "${default_cmd[@]}" | has -xF -- --path.procfs=/host/proc || fail "CMD lacks --path.procfs=/host/proc"
printf '%s\n' "${default_cmd[@]}" | has -xF -- --path.sysfs=/host/sys || fail "CMD lacks --path.sysfs=/host/sys"
printf '%s\n' "${default_cmd[@]}" | has -xF -- --path.rootfs=/host/root || fail "CMD lacks --path.rootfs=/host/root"
echo "   default command: ${default_cmd[*]}"

ctr=$(buildah "${S[@]}" from --pull=never "${ulimits[@]}" --name "hostiso-test-$$" "$image")

# ------------------------------------------------------------ --version
uid=$(buildah "${S[@]}" run --isolation chroot "$ctr" -- id -u)
[ "$uid" = 9933 ] || fail "container user is uid $uid, want 9933"
version=$(buildah "${S[@]}" run --isolation chroot "$ctr" -- /usr/bin/hostiso_exporter --version 2>&1) \
  || fail "--version failed in the image: $version"
[ -n "$version" ] || fail "--version printed nothing"
echo "   --version in the image: $(head -1 <<<"$version")"

# ------------------------------------------------------------ run + scrape
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== image default command + --web.listen-address=127.0.0.1:$port, host /proc,/sys read-only"
setsid buildah "${S[@]}" run --isolation chroot \
  -v /proc:/host/proc:ro -v /sys:/host/sys:ro -v /:/host/root:ro \
  "$ctr" -- "${default_cmd[@]}" "--web.listen-address=127.0.0.1:$port" \
  >"$work/exporter.log" 2>&1 &
run_pid=$!
hostiso_wait_scrape "$run_pid" "$port" "$work/metrics.txt" "$work/exporter.log" 100
hostiso_require_series "$work/metrics.txt" hostiso_build_info hostiso_cpu_seconds_total
# The exporter must see the host's CPUs through /host/proc: one idle series
# per online CPU of this host.
host_cpus=$(grep -cE '^cpu[0-9]+ ' /proc/stat)
idle_series=$(grep -cE '^hostiso_cpu_seconds_total\{.*consumer="idle"' "$work/metrics.txt" || true)
[ "$idle_series" -eq "$host_cpus" ] || fail "hostiso_cpu_seconds_total{consumer=\"idle\"}: $idle_series series, host has $host_cpus CPUs"
echo "   scrape OK: $(grep -c '^hostiso_' "$work/metrics.txt") hostiso_ samples, $idle_series CPUs"
kill -TERM -- "-$run_pid" 2>/dev/null || true
wait "$run_pid" 2>/dev/null || true
run_pid=""

# ------------------------------------------------------------ hardened run
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cpu0=$(cut -d, -f1 /sys/devices/system/cpu/online | cut -d- -f1)
pctr="hostiso-test-run-$$"
echo "== podman run --read-only --cap-drop=ALL --pid=host --cpuset-cpus=$cpu0 (runc), 127.0.0.1:$port"
if ! podman "${S[@]}" --runtime runc run -d --name "$pctr" \
      --read-only --cap-drop=ALL --security-opt=no-new-privileges \
      --pid=host --cpuset-cpus="$cpu0" --network=host \
      "${ulimits[@]}" \
      -v /proc:/host/proc:ro -v /sys:/host/sys:ro -v /:/host/root:ro,rslave \
      "$image" --path.procfs=/host/proc --path.sysfs=/host/sys --path.rootfs=/host/root \
      "--web.listen-address=127.0.0.1:$port" >"$work/podman.log" 2>&1; then
  cat "$work/podman.log"; fail "podman run failed"
fi
ok=""
for _ in $(seq 1 100); do
  if curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" -o "$work/metrics2.txt" 2>/dev/null; then
    ok=1; break
  fi
  sleep 0.2
done
[ -n "$ok" ] || { podman "${S[@]}" logs "$pctr" 2>&1 | tail -20; fail "no answer from the hardened container"; }
grep -qE '^hostiso_build_info[{ ]' "$work/metrics2.txt" || fail "hostiso_build_info missing (hardened run)"
grep -qE '^hostiso_cpu_seconds_total[{ ]' "$work/metrics2.txt" || fail "hostiso_cpu_seconds_total missing (hardened run)"
# No libvirtd here: the libvirt collector fails (hostiso_libvirt_up 0); the
# default keeps no capabilities, so sched reports it cannot load BPF (its
# opt-in is a separate variant); every other collector must succeed.
if grep -E '^hostiso_collector_success\{' "$work/metrics2.txt" | grep -vE 'collector="(libvirt|sched)"' | has -E ' 0$'; then
  grep -E '^hostiso_collector_success\{' "$work/metrics2.txt"
  fail "a collector failed in the hardened container"
fi
cpid=$(podman "${S[@]}" inspect --format '{{.State.Pid}}' "$pctr")
[ -r "/proc/$cpid/status" ] || fail "container process $cpid not found"
st=$(cat "/proc/$cpid/status")
grep -qE '^Uid:\s+9933\s+9933\s+9933\s+9933$' <<<"$st" || fail "container process is not uid 9933: $(grep ^Uid <<<"$st")"
grep -qE '^CapEff:\s+0+$' <<<"$st" || fail "container process has capabilities: $(grep ^CapEff <<<"$st")"
grep -qE '^CapBnd:\s+0+$' <<<"$st" || fail "container bounding set not empty: $(grep ^CapBnd <<<"$st")"
grep -qE '^NoNewPrivs:\s+1$' <<<"$st" || fail "no_new_privs not set"
grep -qE "^Cpus_allowed_list:\s+$cpu0\$" <<<"$st" || fail "cpuset not applied: $(grep ^Cpus_allowed_list <<<"$st")"
echo "   hardened run OK: uid 9933, CapEff/CapBnd 0, NoNewPrivs 1, CPUs $cpu0, $(grep -c '^hostiso_' "$work/metrics2.txt") hostiso_ samples"
echo "PASS (build ${build_s} s, image $size)"
