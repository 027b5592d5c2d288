# shellcheck shell=bash
# Shared by the packaging tests: a cached, pristine Debian 12 (bookworm) minbase
# root file system, made with debootstrap once and kept as a tarball.
#
#   HOSTISO_TEST_CACHE   cache directory (default /var/cache/hostiso-test)
#   DEBIAN_MIRROR        mirror for debootstrap and the root's sources
#                        (default http://deb.debian.org/debian)
#
# hostiso_bookworm_tarball   prints the tarball path, bootstrapping it first if
#                            needed (about a minute; serialised with flock).

HOSTISO_TEST_CACHE=${HOSTISO_TEST_CACHE:-/var/cache/hostiso-test}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

hostiso_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

hostiso_bookworm_tarball() {
  local tarball="$HOSTISO_TEST_CACHE/bookworm-minbase.tar"
  mkdir -p "$HOSTISO_TEST_CACHE"
  (
    flock 9
    if [ -s "$tarball" ]; then exit 0; fi
    local work="$HOSTISO_TEST_CACHE/bookworm-minbase.tmp"
    rm -rf "$work"
    hostiso_log "debootstrap --variant=minbase bookworm into $work (cached afterwards)"
    local t0=$SECONDS
    debootstrap --variant=minbase bookworm "$work" "$DEBIAN_MIRROR" >"$HOSTISO_TEST_CACHE/debootstrap.log" 2>&1 || {
      tail -n 30 "$HOSTISO_TEST_CACHE/debootstrap.log" >&2
      rm -rf "$work"
      exit 1
    }
    # Same archive areas as the official debian:bookworm image.
    rm -f "$work/etc/apt/sources.list"
    cat >"$work/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    # Keep apt from starting daemons inside the root, and keep the root small.
    printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d"
    chmod 0755 "$work/usr/sbin/policy-rc.d"
    rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*
    tar --numeric-owner --xattrs -C "$work" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$work"
    hostiso_log "bootstrapped in $((SECONDS - t0)) s: $tarball ($(du -h "$tarball" | cut -f1))"
  ) 9>"$HOSTISO_TEST_CACHE/.lock"
  printf '%s\n' "$tarball"
}

# hostiso_wait_scrape PID PORT OUT LOG TRIES: polls 127.0.0.1:PORT/metrics
# every 0.2 s into OUT while PID lives; fails (with LOG) if PID exits or
# nothing answers within TRIES polls. Needs the caller's fail().
hostiso_wait_scrape() {
  local pid=$1 port=$2 out=$3 log=$4 tries=$5
  for _ in $(seq 1 "$tries"); do
    kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "exporter exited early"; }
    if curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" -o "$out" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  cat "$log"
  fail "no answer on 127.0.0.1:$port/metrics"
}

# hostiso_require_series OUT METRIC...: every METRIC has a sample in OUT.
hostiso_require_series() {
  local out=$1 m
  shift
  for m in "$@"; do
    grep -qE "^${m}[{ ]" "$out" || { head -40 "$out"; fail "$m missing from /metrics"; }
  done
}
