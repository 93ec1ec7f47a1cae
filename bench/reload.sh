#!/usr/bin/env bash
# Reload figures for issue 5 (closing note): SIGHUP -> READY=1 time with 1,000 backends (median of 5), VmRSS
# before/after 10 reloads, and wrk errors across 3 reloads (HTTP mode if the binary has it, else TCP in front of
# nginx). Loopback only, about 20 s. Usage: bench/reload.sh [--backends N] [--rounds N] [--reloads N] [--seconds N]
# SLUICE_BIN picks the binary (default .build/release/sluice). Details in bench/reload.py.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec python3 "$HERE/reload.py" "$@"
