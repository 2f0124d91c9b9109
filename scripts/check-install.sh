#!/usr/bin/env bash
# Checks the INSTALLED package, the way an app sees it: builds mxsync (Release),
# `cmake --install`s it into a temporary prefix, then builds and runs
#   - examples/embed_cpp with find_package(mxsync), linked to mxsync::mxsync and then
#     to mxsync::mxsync_static;
#   - examples/c_api/main.c with cc and pkg-config: mxsync (with the documented rpath),
#     mxsync --static, and mxsync-static (libmxsync.a), as docs/c-api.md gives them.
# Nothing of the source tree is on those include or link paths.
# Usage: scripts/check-install.sh        (build dir: build-install, or $MXSYNC_INSTALL_BUILD_DIR)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${MXSYNC_JOBS:-2}
build=${MXSYNC_INSTALL_BUILD_DIR:-$root/build-install}
work=$(mktemp -d "${TMPDIR:-/tmp}/mxsync-install-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
config=$root/tests/fixtures/workorder-sync-config.json

step() { echo "== check-install: $*"; }
quiet() { # <log> <command...>: shows the log only when the command fails
  local log=$1; shift
  "$@" > "$log" 2>&1 || { cat "$log"; echo "check-install: FAILED: $*" >&2; exit 1; }
}

# Warnings are the test suite's business (scripts/test.sh builds with -Werror); at -O3,
# GCC 12 also reports false positives (-Wrestrict inside std::string, GCC bug 105329).
if [ -n "${MXSYNC_INSTALL_FROM:-}" ]; then
  # The test suite's build already holds the libraries: install those (saves a build).
  build=$MXSYNC_INSTALL_FROM
  step "install from the existing build $build"
else
  step "build mxsync (Release) in $build"
  quiet "$work/configure.log" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DMXSYNC_BUILD_TESTS=OFF -DMXSYNC_BUILD_SERVER=OFF -DMXSYNC_WERROR=OFF
  quiet "$work/build.log" cmake --build "$build" -j "$jobs"
fi

# The default install prefix is configured, another one given here: the package
# must be relocatable (CMake config and pkg-config file alike).
step "install into $prefix"
quiet "$work/install.log" cmake --install "$build" --prefix "$prefix"
test -f "$prefix/include/mxsync.h"
test -f "$prefix/include/mxsync/sync_client.hpp"

for linkage in shared static; do
  static=OFF
  [ "$linkage" = static ] && static=ON
  dir=$work/embed-$linkage
  step "examples/embed_cpp against the installed package ($linkage)"
  quiet "$dir.configure.log" cmake -S "$root/examples/embed_cpp" -B "$dir" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DEMBED_WITH_STATIC_MXSYNC=$static
  # find_package must have found this prefix, not some other installed mxsync.
  grep -q "^mxsync_DIR:PATH=$prefix/" "$dir/CMakeCache.txt" \
    || { grep "^mxsync_DIR" "$dir/CMakeCache.txt"; echo "check-install: wrong mxsync package" >&2; exit 1; }
  quiet "$dir.build.log" cmake --build "$dir" -j "$jobs"
  if [ "$linkage" = static ] && ldd "$dir/app" | grep -q libmxsync; then
    echo "check-install: the static build links libmxsync.so" >&2; exit 1
  fi
  "$dir/app" "$config"
done

# The three pkg-config builds of docs/c-api.md (Build), word for word, with only this
# prefix's pkg-config directory on PKG_CONFIG_PATH; each program runs without
# LD_LIBRARY_PATH.
pkgconfig_dir=$(dirname "$(find "$prefix" -path '*/pkgconfig/mxsync.pc' | head -n 1)")
export PKG_CONFIG_PATH=$pkgconfig_dir
c_example() { # <name> <cc arguments...>: builds examples/c_api/main.c and runs it
  local name=$1; shift
  step "examples/c_api with pkg-config ($name): cc app.c $*"
  (cd "$work" && cp "$root/examples/c_api/main.c" app.c \
     && quiet "$work/$name.build.log" cc -std=c11 -Wall -Wextra -Werror app.c -o "$name" "$@")
  env -u LD_LIBRARY_PATH "$work/$name" "$config"
}
libdir=$(pkg-config --variable=libdir mxsync)
# shellcheck disable=SC2046 # the flags are words, as in the documented commands
c_example c-shared $(pkg-config --cflags --libs mxsync) -Wl,-rpath,$(pkg-config --variable=libdir mxsync)
env -u LD_LIBRARY_PATH ldd "$work/c-shared" | grep -q "libmxsync.so.* => $libdir/" \
  || { ldd "$work/c-shared"; echo "check-install: c-shared does not load $libdir/libmxsync.so" >&2; exit 1; }
# shellcheck disable=SC2046
c_example c-static-flags $(pkg-config --static --cflags --libs mxsync) -Wl,-rpath,$(pkg-config --variable=libdir mxsync)
# shellcheck disable=SC2046
c_example c-static $(pkg-config --cflags --libs mxsync-static)
if ldd "$work/c-static" | grep -q libmxsync; then
  echo "check-install: the mxsync-static build links libmxsync.so" >&2; exit 1
fi

step "OK"
