#!/usr/bin/env bash
# `make run`: starts two demo backends on 127.0.0.1:9001/9002, generates a self-signed certificate for the HTTPS
# listener on first run (in .build/demo/, never committed), then runs sluice in the foreground on the given
# config. Ctrl-C (or sluice exiting) stops the backends this script started, by their PIDs.
set -u
BIN=${1:?sluice binary}; CFG=${2:?config file}
DIR=$(cd "$(dirname "$0")/.." && pwd)
DEMO="$DIR/.build/demo"
mkdir -p "$DEMO"
export DEMO_CERT="$DEMO/localhost.pem"
if [ ! -s "$DEMO_CERT" ]; then
  echo "generating a self-signed certificate for localhost in $DEMO_CERT"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$DEMO/key.pem" -out "$DEMO/cert.pem" 2>/dev/null \
    && cat "$DEMO/cert.pem" "$DEMO/key.pem" > "$DEMO_CERT" || { echo "openssl failed"; exit 1; }
fi
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
cat <<MSG
demo backends app1 (127.0.0.1:9001) and app2 (127.0.0.1:9002) are up; sluice starts on config/sluice.cfg. Try:
  curl http://127.0.0.1:8080/                        # app1, then app2: round robin per request
  curl -k https://127.0.0.1:8443/                    # the same over TLS (self-signed certificate)
  curl http://127.0.0.1:8080/app2/anything           # routed by path to app2 (set-path /)
  curl http://127.0.0.1:8080/sluice-health           # answered by sluice itself
  curl http://127.0.0.1:8081/                        # TCP mode in front of the same servers
Ctrl-C stops everything.
MSG
"$BIN" -f "$CFG" & sluice=$!
pids+=($sluice)
wait $sluice
