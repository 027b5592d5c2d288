#!/usr/bin/env bash
# One command: install what is missing, build, and run the exporter on this
# host (listening on :9933 unless you pass --web.listen-address).
#   scripts/run-exporter.sh [exporter flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh build
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target hostiso_exporter
exec build-release/exporter/hostiso_exporter "$@"
