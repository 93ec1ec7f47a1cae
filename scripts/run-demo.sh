#!/usr/bin/env bash
# `make run`: starts two demo backends on 127.0.0.1:9001/9002, then sluice in the foreground on the given
# config. Ctrl-C (or sluice exiting) stops the backends this script started, by their PIDs.
set -u
BIN=${1:?sluice binary}; CFG=${2:?config file}
DIR=$(cd "$(dirname "$0")/.." && pwd)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
for n in 1 2; do
  python3 "$DIR/config/demo-backend.py" "app$n" "900$n" & pids+=($!)
done
for port in 9001 9002; do
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
done
echo "demo backends app1 (127.0.0.1:9001) and app2 (127.0.0.1:9002) are up"
echo "sluice listens on 127.0.0.1:8080 — try: curl http://127.0.0.1:8080/   (Ctrl-C stops everything)"
"$BIN" -f "$CFG" & sluice=$!
pids+=($sluice)
wait $sluice
