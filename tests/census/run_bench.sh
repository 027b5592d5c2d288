#!/bin/bash
# Thread census benchmark on 50,000 real threads (ctest label "bench").
# Usage: run_bench.sh BENCH_BINARY EXPORTER_BINARY [extra bench flags]
set -euo pipefail
bench=$1
exporter=$2
shift 2
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root (raises kernel.pid_max / kernel.threads-max)"
  exit 77
fi
if [ "$(getconf _NPROCESSORS_ONLN)" -lt 2 ]; then
  echo "SKIP: needs at least 2 CPUs"
  exit 77
fi
exec "$bench" --threads=50000 --procs=25 --runs=5 --exporter="$exporter" \
  --exporter-seconds=60 "$@"
