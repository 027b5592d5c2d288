#!/usr/bin/env bash
# Builds the CivetWeb the exporter links against, from Debian's own civetweb
# source package, as a static library with TLS for OpenSSL 3 (linked, not
# dlopen'ed) and IPv6. Why not Debian's libcivetweb1 (see README "Why a
# CivetWeb of our own"): it is built for OpenSSL 1.1's API and dlopens
# libssl.so, so with Debian 12's OpenSSL 3 the first TLS connection crashes
# a worker thread; and it is built without IPv6.
#
# Idempotent and cached: the result goes to $HOSTISO_CIVETWEB_PREFIX
# (default /opt/hostiso/civetweb) with a stamp naming the source version and
# the build recipe; a second run with the same stamp does nothing.
# Needs: a deb-src entry for the archive (added here when missing, copied
# from /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list),
# dpkg-dev (dpkg-source), a C/C++ compiler and libssl-dev.
#
# Usage: scripts/build-civetweb.sh [--force]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=${HOSTISO_CIVETWEB_PREFIX:-/opt/hostiso/civetweb}
# The version this project is written and tested against (Debian 12).
want_version=1.15
# Every byte that changes the result goes into the stamp.
# NO_CGI/NO_FILES: the exporter serves only its own handlers, never files.
# USE_STACK_SIZE: 1 MiB stacks for the worker threads instead of glibc's
# 8 MiB; the exporter runs a thousand of them (HttpServerOptions).
defines=(-DOPENSSL_API_3_0 -DNO_SSL_DL -DUSE_IPV6 -DNO_CGI -DNO_FILES -DNO_CACHING
  -DUSE_STACK_SIZE=1048576)
cflags=(-O2 -g -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2 -pthread)
patch_dir=$here/civetweb-patches
recipe=$( {
  echo "version=$want_version defines=${defines[*]} cflags=${cflags[*]}"
  cat "$0"
  if [ -d "$patch_dir" ]; then cat "$patch_dir"/*.patch 2>/dev/null || true; fi
} | sha256sum | cut -c1-16)
stamp="$prefix/.hostiso-stamp"
if [ "${1:-}" != --force ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ] \
  && [ -f "$prefix/lib/libcivetweb.a" ]; then
  echo "build-civetweb: $prefix is up to date ($recipe)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

# A deb-src entry for the same archive as the binary packages.
have_deb_src() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -E '^(Types:.*deb-src|deb-src )' "$f" >/dev/null && return 0
  done
  return 1
}
if ! have_deb_src; then
  src_list=/etc/apt/sources.list.d/hostiso-deb-src
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      | $SUDO tee "$src_list.sources" >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | $SUDO tee "$src_list.list" >/dev/null
  else
    echo "build-civetweb: no apt source list to derive a deb-src entry from" >&2
    exit 1
  fi
  echo "build-civetweb: added a deb-src entry ($src_list)"
  $SUDO apt-get update -qq
fi

work=$(mktemp -d /tmp/hostiso-civetweb.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get source -qq civetweb >apt-source.log 2>&1; then
  # The package lists may predate the deb-src entry.
  $SUDO apt-get update -qq
  apt-get source -qq civetweb >apt-source.log 2>&1 || { cat apt-source.log >&2; exit 1; }
fi
srcdir=$(find . -maxdepth 1 -type d -name 'civetweb-*' | head -n1)
[ -n "$srcdir" ] || { echo "build-civetweb: apt-get source gave no tree" >&2; exit 1; }
case "$srcdir" in
  ./civetweb-"$want_version"*) ;;
  *) echo "build-civetweb: expected civetweb $want_version, got $srcdir" >&2; exit 1 ;;
esac
cd "$srcdir"
if [ -d "$patch_dir" ]; then
  for p in "$patch_dir"/*.patch; do
    [ -e "$p" ] || continue
    echo "build-civetweb: applying $(basename "$p")"
    patch -p1 --forward --quiet <"$p"
  done
fi
cc "${cflags[@]}" "${defines[@]}" -Iinclude -c src/civetweb.c -o civetweb.o
c++ "${cflags[@]}" "${defines[@]}" -std=c++17 -Iinclude -c src/CivetServer.cpp -o CivetServer.o
ar rcs libcivetweb.a civetweb.o CivetServer.o

$SUDO mkdir -p "$prefix/lib" "$prefix/include"
$SUDO install -m 0644 libcivetweb.a "$prefix/lib/"
$SUDO install -m 0644 include/civetweb.h include/CivetServer.h "$prefix/include/"
echo "$recipe" | $SUDO tee "$stamp" >/dev/null
echo "build-civetweb: built $(basename "$srcdir") into $prefix ($recipe)"
