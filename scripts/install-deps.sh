#!/usr/bin/env bash
# Installs every build and run dependency of mxsync from Debian 12's packages.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git ca-certificates
  libcaf-dev            # actors and the unit-test DSL (CAF 0.17.6)
  libsqlite3-dev sqlite3
  libcurl4-openssl-dev  # HTTP client (transport/)
  nlohmann-json3-dev
  libssl-dev            # password digests, TLS
  libcpp-httplib-dev    # HTTP server library of the reference server (server/)
  zlib1g-dev            # gzip of the reference server's answers
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
