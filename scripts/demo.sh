#!/usr/bin/env bash
# Installs every dependency, builds mxsync and runs the main job: for now the
# device database of the fixture sync configuration, created and listed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DMXSYNC_BUILD_TESTS=OFF -DMXSYNC_WERROR=OFF > build-demo.log 2>&1 \
  || { cat build-demo.log; exit 1; }
cmake --build build-demo -j "${MXSYNC_JOBS:-2}" --target mxsync-cli >> build-demo.log 2>&1 \
  || { tail -50 build-demo.log; exit 1; }
mkdir -p build-demo/run
rm -f build-demo/run/device.db build-demo/run/device.db-wal build-demo/run/device.db-shm
build-demo/cli/mxsync init --config tests/fixtures/workorder-sync-config.json \
  --db build-demo/run/device.db
