#!/usr/bin/env bash
# Installs every Debian 12 package kefu's build, tests and benchmarks need.
# Non-interactive and idempotent: on a ready machine it only checks and returns in seconds.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git
  libboost1.81-dev          # Boost.Asio / Boost.Beast (HTTP, WebSocket)
  libcpp-httplib-dev        # outbound HTTPS client
  libicu-dev                # normalisation, segmentation, time zones
  libsqlite3-dev            # embedded store with FTS5
  nlohmann-json3-dev
  libssl-dev                # AES, SHA-1, HMAC, TLS
  libpugixml-dev
  libtomlplusplus-dev
  libcli11-dev
  libsodium-dev             # token and password hashing
  libspdlog-dev
  prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl wrk procps
  chromium                  # console browser tests (driven by playwright-core, tests/e2e)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm run the console's browser tests (tests/e2e). Machines that already have them (for
# instance a newer npm installed outside dpkg) keep theirs; otherwise Debian's packages are added.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
