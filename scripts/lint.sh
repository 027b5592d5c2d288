#!/usr/bin/env bash
# clang-format (check only) and clang-tidy (.clang-tidy) over the project's C++ sources;
# flake8 (.flake8) over its Python files.
set -euo pipefail
cd "$(dirname "$0")/.."
# flake8 first and without stopping the script, so that a Python finding does not hide
# the C++ ones; .flake8 at the repository root sets max line length 100 and ignores nothing.
mapfile -t python_files < <(git ls-files '*.py')
echo "flake8: ${#python_files[@]} files"
flake8_status=0
flake8 "${python_files[@]}" || flake8_status=1
mapfile -t files < <(git ls-files '*.cc' '*.h')
echo "clang-format: ${#files[@]} files"
clang-format --dry-run -Werror "${files[@]}"
# clang-tidy needs a compile database; a configure-only build dir is enough.
cmake -S . -B build-lint -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep '\.cc$')
echo "clang-tidy: ${#sources[@]} files"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# xargs exits non-zero when any clang-tidy run reported an error. -Wthread-safety
# makes clang check the GUARDED_BY/REQUIRES annotations (metrics/mutex.h); GCC,
# which builds the tests, ignores them.
if ! printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build-lint --quiet \
  --extra-arg=-Wthread-safety --warnings-as-errors='*' >"$log" 2>&1; then
  grep -v "warnings generated" "$log" >&2
  echo "clang-tidy: findings above" >&2
  exit 1
fi
if [ "$flake8_status" -ne 0 ]; then
  echo "flake8: findings above" >&2
  exit 1
fi
echo "lint: clean"
