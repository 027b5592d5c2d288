#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang, ASan+UBSan) in build-fuzz/ and
# runs each for a bounded time. Fails when any harness finds a crash, a
# sanitizer report, a timeout, a leak or an out-of-memory; prints the
# executions per target and in total.
#   HOSTISO_FUZZ_SECONDS  seconds per harness (default 20)
#   HOSTISO_FUZZ_JOBS     harnesses run at once (default: number of CPUs)
#   HOSTISO_FUZZ_TARGETS  space-separated subset (default: all)
# A finding is kept as build-fuzz/findings/NAME-crash-*; replay it with
#   build-fuzz/fuzz/fuzz_NAME build-fuzz/findings/NAME-crash-...
# and turn it into a unit test of the parser before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${HOSTISO_FUZZ_SECONDS:-20}
jobs=${HOSTISO_FUZZ_JOBS:-$(nproc)}
build=build-fuzz

echo "fuzz: building harnesses in $build"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHOSTISO_FUZZ=ON -DBUILD_TESTING=OFF -DHOSTISO_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target hostiso_fuzzers >/dev/null
read -r -a targets <<<"${HOSTISO_FUZZ_TARGETS:-$(tr ';' ' ' <"$build/fuzz/targets.txt")}"

# Kernel and config files from the fixture trees seed the matching parsers.
fixture_seeds() {
  local f=tests/fixtures
  case "$1" in
    meminfo) ls $f/*/proc/meminfo ;;
    proc_stat | boot_time) ls $f/*/proc/stat ;;
    kernel_cmdline) ls $f/*/proc/cmdline ;;
    schedstat) ls $f/*/proc/schedstat ;;
    interrupts) ls $f/*/proc/interrupts ;;
    cpu_list) ls $f/*/sys/devices/system/cpu/{present,possible,online,isolated,nohz_full} ;;
    ini | nova_config | nova_interpolate) ls $f/*/nova.conf ;;
    domain_xml | domstatus | nova_metadata) ls tests/libvirt/fixtures/*.xml $f/*/libvirt.xml ;;
    task_stat) ls $f/*/proc/*/task/*/stat ;;
    task_schedstat) ls $f/*/proc/*/task/*/schedstat ;;
    task_status) ls $f/*/proc/*/task/*/status ;;
    mems_allowed) ls $f/*/proc/*/status $f/*/proc/*/task/*/status ;;
    statm) ls $f/*/proc/*/statm ;;
    qemu_cmdline) ls $f/*/proc/*/cmdline ;;
    vcpu_comm | census_names) ls $f/*/proc/*/task/*/comm ;;
    mountinfo) ls $f/*/proc/self/mountinfo ;;
    cgroup_cpuset) find $f/*/sys/fs/cgroup -name 'cpuset.*cpus*' ;;
    cgroup_cpu_stat) find $f/*/sys/fs/cgroup -name cpu.stat ;;
    cpuacct_usage) find $f/*/sys/fs/cgroup -name cpuacct.usage ;;
  esac 2>/dev/null || true
}

rm -rf "$build/findings" "$build/logs"
mkdir -p "$build/findings" "$build/logs"
run_one() {
  local name=$1 corpus=$build/corpus/$1 rc
  mkdir -p "$corpus"
  fixture_seeds "$name" | while read -r seed; do
    cp "$seed" "$corpus/fixture-$(echo "$seed" | tr '/' '_')"
  done
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds
  # memory blow-ups (the interpolation bomb of issue 11 grew to ~1 GB).
  # fuzz/dicts/NAME.dict: tokens of the format, when the harness has one.
  local dict=() seeds=()
  if [ -f "fuzz/dicts/$name.dict" ]; then dict=(-dict="fuzz/dicts/$name.dict"); fi
  # fuzz/seeds/NAME: literal seeds, when the harness has some (git keeps no
  # empty directory; libFuzzer stops at a corpus directory that is missing).
  if [ -d "fuzz/seeds/$name" ]; then seeds=("fuzz/seeds/$name"); fi
  "$build/fuzz/fuzz_$name" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=1024 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$name-" "$corpus" "${seeds[@]}" \
    >"$build/logs/$name.log" 2>&1 && rc=0 || rc=$?
  # The exit status goes through a file: `wait -n` below may reap the job.
  echo "$rc" >"$build/logs/$name.rc"
}

for name in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_one "$name" &
done
wait

status=0
total=0
for name in "${targets[@]}"; do
  rc=$(cat "$build/logs/$name.rc" 2>/dev/null || echo missing)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$name.log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ "$rc" != 0 ]; then
    status=1
    printf 'fuzz: %-18s FAILED (exit %s) after %s executions; log %s, input %s\n' \
      "$name" "$rc" "$execs" "$build/logs/$name.log" "$(ls "$build/findings/$name-"* 2>/dev/null | head -1)"
    grep -m3 -E 'ERROR|SUMMARY|runtime error|check failed' "$build/logs/$name.log" | sed 's/^/    /' || true
  else
    printf 'fuzz: %-18s ok  %10s executions in %s s\n' "$name" "$execs" "$seconds"
  fi
done
echo "fuzz: ${#targets[@]} harnesses, $total executions in total"
exit $status
