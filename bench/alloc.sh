#!/usr/bin/env bash
# Heap allocations per proxied request in steady state: sluice runs under an LD_PRELOAD malloc counter
# (bench/tools/alloc_count.c, built here), in front of an nginx backend; after a warm-up, h2load sends a fixed
# number of keep-alive requests and the counter's growth is divided by that number.
# Usage: bench/alloc.sh [mode=http] [requests=10000]
set -u
MODE=${1:-http}; N=${2:-10000}
HERE=$(cd "$(dirname "$0")" && pwd)
SLUICE=${SLUICE_BIN:-$HERE/../.build/release/sluice}
W=$(mktemp -d /tmp/sluice-alloc.XXXXXX)
SP=""
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; [ -f "$W/be.pid" ] && kill "$(cat "$W/be.pid")" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
gcc -O2 -shared -fPIC -o "$W/alloc_count.so" "$HERE/tools/alloc_count.c" -ldl || exit 2
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
BE=$(port); PS=$(port); mkdir -p "$W/tmp"
cat > "$W/be.conf" <<EOC
worker_processes 1; pid $W/be.pid; error_log $W/be.err; daemon on;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
  uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  server { listen 127.0.0.1:$BE backlog=4096; keepalive_requests 1000000; location / { return 200 "hello world\n"; } } }
EOC
nginx -c "$W/be.conf" -e "$W/be.err" && wait_port "$BE" || { echo "backend failed"; exit 2; }
cat > "$W/s.cfg" <<EOC
global
    maxconn 1000
defaults
    mode $MODE
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$PS
    default_backend be
backend be
    server s1 127.0.0.1:$BE
EOC
ALLOC_COUNT_FILE="$W/count" LD_PRELOAD="$W/alloc_count.so" "$SLUICE" -q -f "$W/s.cfg" > "$W/s.log" 2>&1 & SP=$!
wait_port "$PS" || { echo "sluice did not start"; cat "$W/s.log"; exit 2; }
count() { python3 -c "import struct;print(struct.unpack('<Q', open('$W/count','rb').read(8))[0])"; }
h2load --h1 -n 2000 -c 10 "http://127.0.0.1:$PS/" > /dev/null 2>&1
A=$(count)
out=$(h2load --h1 -n "$N" -c 10 "http://127.0.0.1:$PS/" 2>&1)
B=$(count)
ok=$(echo "$out" | awk '/^requests:/{print $8}')
awk -v a="$A" -v b="$B" -v n="$N" -v ok="$ok" -v m="$MODE" 'BEGIN {
  printf "mode=%s requests=%d succeeded=%s allocations=%d per_request=%.4f (target 0)\n", m, n, ok, b - a, (b - a) / n }'
