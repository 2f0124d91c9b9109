#!/usr/bin/env bash
# Installs every dependency, builds the mxsync command line and mxsync-server, and
# runs `mxsync demo`: a generated data set on a local server, a device database
# synced both ways, local and server changes, both sides shown at the end.
# Arguments go to `mxsync demo` (e.g. --rows 500, --keep).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DMXSYNC_BUILD_TESTS=OFF -DMXSYNC_WERROR=OFF > build-demo.log 2>&1 \
  || { cat build-demo.log; exit 1; }
cmake --build build-demo -j "${MXSYNC_JOBS:-2}" --target mxsync-cli mxsync-server >> build-demo.log 2>&1 \
  || { tail -50 build-demo.log; exit 1; }
exec build-demo/cli/mxsync demo --config tests/fixtures/workorder-sync-config.json \
  --server-binary build-demo/server/mxsync-server "$@"
