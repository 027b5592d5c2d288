#!/usr/bin/env bash
# Memory headroom against /proc/meminfo read by the test itself.
#
# 1. (any user) The exporter's MemTotal is exact; host used, computed here from
#    /proc/meminfo and the sysfs huge page pools with the documented formula,
#    matches within a tolerance; headroom = reserved - host used exactly; the
#    breach follows the sign of the headroom.
# 2. (root, when the kernel can grow the 2 MiB pool) A huge page pool that
#    nobody uses is not host memory; pages a host process takes (a file on
#    hugetlbfs, like OVS-DPDK would) are.
#
# Usage: test_memory_live.sh EXPORTER_BINARY
set -euo pipefail

exporter=${1:?usage: test_memory_live.sh EXPORTER_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

[ -x "$exporter" ] || fail "exporter binary $exporter not found"
for tool in curl python3 awk; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done
[ -r /proc/meminfo ] || skip "no /proc/meminfo"

tmp=$(mktemp -d /tmp/hostiso-headroom-mem.XXXXXX)
exporter_pid=""
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hp_saved=""
hugemnt=""

cleanup() {
  local rc=$?
  stop_exporter
  if [ -n "$hugemnt" ]; then
    rm -f "$hugemnt/dpdk-like" 2>/dev/null || true
    umount "$hugemnt" 2>/dev/null || true
  fi
  if [ -n "$hp_saved" ]; then echo "$hp_saved" >"$hp/nr_hugepages" 2>/dev/null || true; fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

MiB=1048576
# Memory moves between the test's read of /proc/meminfo and the exporter's:
# the host used figure is compared to the range seen before and after the
# scrape, widened by 32 MiB (other processes on a busy CI machine).
tol=$((32 * MiB))
# Changes across a pool change, net of other processes' allocations (each
# side carries a scrape-vs-read noise): 64 MiB, well below the 256/512 MiB
# effects tested.
drift=$((64 * MiB))

# expected_host_used: the formula with no guests (libvirt is off here):
# (MemTotal - MemAvailable) - pool + max(0, committed huge pages).
expected_host_used() {
  python3 - <<'EOF'
import glob, os
mi = {}
for line in open("/proc/meminfo"):
    k, v = line.split(":", 1)
    f = v.split()
    mi[k] = int(f[0]) * (1024 if len(f) > 1 and f[1] == "kB" else 1)
pool = committed = 0
dirs = glob.glob("/sys/kernel/mm/hugepages/hugepages-*kB")
for d in dirs:
    size = int(os.path.basename(d)[len("hugepages-"):-2]) * 1024
    rd = lambda n: int(open(os.path.join(d, n)).read()) if os.path.exists(os.path.join(d, n)) else 0
    total, free, resv = rd("nr_hugepages"), rd("free_hugepages"), rd("resv_hugepages")
    pool += total * size
    committed += min(total, max(0, total - free) + resv) * size
if not dirs and mi.get("Hugepagesize"):
    size = mi["Hugepagesize"]
    total, free, resv = mi.get("HugePages_Total", 0), mi.get("HugePages_Free", 0), mi.get("HugePages_Rsvd", 0)
    pool, committed = total * size, min(total, total - free + resv) * size
pool = max(pool, mi.get("Hugetlb", 0))
nonhuge = mi["MemTotal"] - mi["MemAvailable"] - pool
print(max(0, nonhuge + committed), mi["MemTotal"], nonhuge)
EOF
}

# check_host_used: scrape between two reads of /proc/meminfo. Sets used_now
# (the exporter's host used) and nonhuge_now: MemTotal - MemAvailable - huge
# page pool as the test saw it, which moves only with other processes'
# allocations; it lets comparisons across time cancel that noise out.
check_host_used() {
  local before after total lo hi got nh1 nh2 try
  # A busy machine (compilers starting and exiting) can move memory by 100 MiB
  # within a scrape: retry until a scrape falls in a quiet moment (<= 8 MiB).
  for try in $(seq 1 30); do
    read -r before total nh1 < <(expected_host_used)
    scrape
    read -r after total nh2 < <(expected_host_used)
    within "$nh1" "$nh2" $((8 * MiB)) && break
    sleep 0.2
  done
  got=$(need hostiso_memory_host_used_bytes)
  used_now=$got
  nonhuge_now=$(((nh1 + nh2) / 2))
  lo=$((before < after ? before : after))
  hi=$((before > after ? before : after))
  awk -v g="$got" -v lo="$lo" -v hi="$hi" -v t="$tol" 'BEGIN { exit !(g >= lo - t && g <= hi + t) }' ||
    fail "host used $got outside [$lo, $hi] +/- $tol"
  echo "ok: host used $got within [$lo, $hi] +/- $tol (from /proc/meminfo)"
  check_within "MemTotal" "$(need hostiso_memory_total_bytes)" "$total" 0
}

reserved_mb=512
cat >"$tmp/nova.conf" <<EOF
[DEFAULT]
reserved_host_memory_mb = $reserved_mb
reserved_huge_pages = node:0,size:2048,count:32
EOF
start_exporter mem --nova.config "$tmp/nova.conf" --no-collector.libvirt --no-collector.census --no-collector.disk

echo "== 1. host used, reserved, headroom against /proc/meminfo"
check_host_used
used=$(need hostiso_memory_host_used_bytes)
check_within "reserved" "$(need hostiso_memory_reserved_bytes)" $((reserved_mb * MiB)) 0
check_within "reserved huge pages (32 x 2 MiB)" "$(need hostiso_memory_reserved_hugepages_bytes)" $((64 * MiB)) 0
check_within "headroom = reserved - host used" "$(need hostiso_memory_reserve_headroom_bytes)" \
  $((reserved_mb * MiB - used)) 0
breach=$(need 'hostiso_violating_subjects{kind="memory_reserve_breach"}')
if [ "$used" -gt $((reserved_mb * MiB)) ]; then want=1; else want=0; fi
[ "$breach" = "$want" ] || fail "memory_reserve_breach $breach, expected $want (host used $used, reserved $((reserved_mb * MiB)))"
echo "ok: memory_reserve_breach = $breach (host used $used vs reserved $((reserved_mb * MiB)))"
[ "$(need 'hostiso_collector_success{collector="memory"}')" = 1 ] || fail "memory collector failed"

echo "== 1b. a reservation far above use clears the breach (nova.conf edited live)"
sed -i "s/^reserved_host_memory_mb = .*/reserved_host_memory_mb = 1048576/" "$tmp/nova.conf"
wait_for 'hostiso_memory_reserved_bytes' $((1048576 * MiB))
[ "$(need 'hostiso_violating_subjects{kind="memory_reserve_breach"}')" = 0 ] || fail "breach with a 1 TiB reservation"
echo "ok: no breach with reserved_host_memory_mb = 1048576"

echo "== 2. huge pages: an unused pool is not host memory; pages a host process holds are"
check_host_used
used_before_pool=$used_now
nonhuge_before_pool=$nonhuge_now
if [ "$(id -u)" -ne 0 ] || [ ! -w "$hp/nr_hugepages" ] || ! command -v fallocate >/dev/null; then
  echo "SKIP part 2: needs root and a writable $hp/nr_hugepages"
  echo "PASS: memory headroom live test (part 1)"
  exit 0
fi
hp_saved=$(cat "$hp/nr_hugepages")
want_pages=$((hp_saved + 256))
echo "$want_pages" >"$hp/nr_hugepages"
if [ "$(cat "$hp/nr_hugepages")" -lt "$want_pages" ]; then
  echo "SKIP part 2: the kernel could not grow the 2 MiB pool to $want_pages pages"
  echo "PASS: memory headroom live test (part 1)"
  exit 0
fi
wait_for 'hostiso_memory_hugepages_pool_bytes{page_size="2097152"}' $((want_pages * 2 * MiB))
check_host_used
used_with_pool=$used_now
nonhuge_with_pool=$nonhuge_now
# The 512 MiB pool left MemAvailable, yet host used must not grow by it
# (other processes' allocations in between are cancelled by nonhuge).
check_within "host used change with an unused 512 MiB pool" \
  $((used_with_pool - used_before_pool)) $((nonhuge_with_pool - nonhuge_before_pool)) "$drift"
host_huge0=$(need hostiso_memory_hugepages_host_used_bytes)
hugemnt="$tmp/huge"
mkdir -p "$hugemnt"
mount -t hugetlbfs -o pagesize=2M none "$hugemnt" || { hugemnt=""; fail "cannot mount hugetlbfs"; }
# 128 pages (256 MiB) held by a "host process": a hugetlbfs file, as DPDK does.
fallocate -l $((256 * MiB)) "$hugemnt/dpdk-like"
wait_for 'hostiso_memory_hugepages_host_used_bytes' $((host_huge0 + 256 * MiB))
check_host_used
check_within "host used change with 256 MiB of huge pages held" \
  $((used_now - used_with_pool)) $((nonhuge_now - nonhuge_with_pool + 256 * MiB)) "$drift"
check_within "huge pages free" "$(need 'hostiso_memory_hugepages_free_bytes{page_size="2097152"}')" \
  "$(($(cat "$hp/free_hugepages") * 2 * MiB))" $((4 * MiB))
echo "ok: 256 MiB of huge pages held by a host process count as host memory"

echo "PASS: memory headroom live test"
