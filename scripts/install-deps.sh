#!/usr/bin/env bash
# Installs every Debian 12 package the exporter and its tests need.
# Idempotent: packages already present are skipped by apt; then
# scripts/build-civetweb.sh builds (once, cached) the CivetWeb the exporter
# links against (README "Why a CivetWeb of our own").
# Usage: scripts/install-deps.sh [build|test]
#   build: what building and running the exporter needs
#   test:  build + everything the test suite starts (libvirtd, QEMU, Prometheus,
#          Alertmanager, node_exporter for the benchmark, LVM, buildah, ...)
set -euo pipefail
what=${1:-test}

build_pkgs=(
  build-essential cmake pkg-config git ca-certificates
  prometheus-cpp-dev libcivetweb-dev libvirt-dev libxml2-dev libspdlog-dev libfmt-dev
  dpkg-dev patch libssl-dev zlib1g-dev libyaml-cpp-dev libcrypt-dev
  clang libbpf-dev libelf-dev bpftool
)
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev clang-format clang-tidy
  clang libclang-rt-14-dev
  python3 flake8 curl procps util-linux linux-perf libbpf-tools
  prometheus prometheus-alertmanager prometheus-node-exporter
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  lvm2 e2fsprogs strace file
  buildah podman runc debootstrap systemd-container python3-yaml rsync
  openssl wrk python3-prometheus-client
  jsonnet yamllint python3-jinja2
  chromium
)

pkgs=("${build_pkgs[@]}")
if [ "$what" = test ]; then pkgs+=("${test_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
here=$(cd "$(dirname "$0")" && pwd)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exec bash "$here/build-civetweb.sh"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -qq
# --no-install-recommends keeps libvirt from pulling in dnsmasq/firewall bits the
# tests never start; policy-rc.d keeps apt from starting any daemon.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
bash "$here/build-civetweb.sh"
