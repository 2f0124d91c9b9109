#!/usr/bin/env bash
# Builds mxsync and runs the whole test suite: the Release build (warnings as errors), then the
# AddressSanitizer + UndefinedBehaviorSanitizer build. Usage: scripts/test.sh [--no-sanitizers]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
jobs=${MXSYNC_JOBS:-2}
scripts/check-references.sh # the repository cites only itself (docs/protocol.md, tests/fixtures/...)

run_suite() { # <build dir> <cmake args...>
  local dir=$1; shift
  cmake -S . -B "$dir" -DMXSYNC_WERROR=ON "$@" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 900)
}

# A user's plain build takes the project's defaults: warnings must not be errors there.
plain=$(mktemp -d "${TMPDIR:-/tmp}/mxsync-plain.XXXXXX")
cmake -S . -B "$plain" -DCMAKE_BUILD_TYPE=Release > "$plain.log" 2>&1 || { cat "$plain.log"; exit 1; }
grep -q '^MXSYNC_WERROR:BOOL=OFF$' "$plain/CMakeCache.txt" \
  || { echo "test.sh: a plain build must not turn warnings into errors (MXSYNC_WERROR defaults to OFF)" >&2; exit 1; }
rm -rf "$plain" "$plain.log"

run_suite build -DCMAKE_BUILD_TYPE=Release # the optimised build users make
MXSYNC_INSTALL_FROM="$root/build" scripts/check-install.sh # the installed package, as apps use it
if [ "${1:-}" != "--no-sanitizers" ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DMXSYNC_SANITIZE=ON
fi
