#!/usr/bin/env bash
# Install what building, running and testing mcpgw needs, idempotently.
# Debian packages via apt-get (only the missing ones), npm packages into
# tests/node_modules (only when package-lock.json changed). Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(build-essential pkg-config clang libclang-rt-dev
      libevent-dev libjansson-dev libcurl4-openssl-dev libyaml-dev libssl-dev
      libpcre2-dev libcmocka-dev libcjose-dev libsqlite3-dev sqlite3 libhiredis-dev libpq-dev postgresql libjemalloc-dev redis-server curl wrk stress-ng gawk iproute2 util-linux valgrind nodejs npm python3-cryptography)

# Without their recommends: prometheus would bring a node exporter service
# (port 9100) and a few dozen unrelated packages; chromium (headless, for
# the console tests) a desktop's worth.
DEBS_BARE=(prometheus chromium)

missing=()
for p in "${DEBS[@]}" "${DEBS_BARE[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from another source than Debian; accept any node >= 20.
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
want=()
for p in "${missing[@]}"; do [ -n "$p" ] && want+=("$p"); done
if [ "${#want[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${want[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  bare=(); full=()
  for p in "${want[@]}"; do
    if [[ " ${DEBS_BARE[*]} " == *" $p "* ]]; then bare+=("$p"); else full+=("$p"); fi
  done
  [ "${#full[@]}" -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${full[@]}" >/dev/null
  [ "${#bare[@]}" -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends "${bare[@]}" >/dev/null
fi

# npm packages for the integration tests, fixtures and example upstreams.
stamp=tests/node_modules/.mcpgw-stamp
if [ ! -f "$stamp" ] || [ tests/package.json -nt "$stamp" ] || \
   { [ -f tests/package-lock.json ] && [ tests/package-lock.json -nt "$stamp" ]; }; then
  echo "bootstrap: npm install in tests/" >&2
  ( cd tests && npm install --no-audit --no-fund --loglevel=error >/dev/null )
  touch "$stamp"
fi
