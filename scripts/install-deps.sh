#!/usr/bin/env bash
# Installs the Debian packages a fresh machine lacks for a given purpose, and pytest for the integration tests.
# Usage: scripts/install-deps.sh build|test|bench
# Only missing packages are installed; apt-get update runs only when something is missing.
set -euo pipefail
purpose=${1:-test}
build_pkgs="libssl-dev libsystemd-dev pkg-config"
test_pkgs="$build_pkgs curl openssl python3 socat"
bench_pkgs="$test_pkgs haproxy nginx-light wrk nghttp2-client strace testssl.sh"
case "$purpose" in
  build) pkgs=$build_pkgs ;;
  test) pkgs=$test_pkgs ;;
  bench) pkgs=$bench_pkgs ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing missing packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$purpose" != build ]; then
  python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest
fi
exit 0
