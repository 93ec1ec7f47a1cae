#!/usr/bin/env bash
# CPU cost of health checks: sluice with 1,000 `server sN 127.0.0.1:PORT check inter 1s` lines (all on one nginx
# backend, or a Python one without nginx), no traffic. After a warm-up that covers the spread-out first checks,
# sluice's CPU (utime+stime from /proc/PID/stat) over SECONDS is printed as a percent of one core, with the number
# of DOWN lines (any means checks failed under the load) and, in a second run under the LD_PRELOAD malloc counter
# (bench/tools/alloc_count.c), heap allocations per check. HAProxy 2.6 (nbthread 1), when installed, runs the same
# config afterwards for comparison.
# Usage: bench/checks.sh [tcp|http] [servers=1000] [seconds=20]
# Everything binds 127.0.0.1 and stops by itself.
set -u
KIND=${1:-tcp}; SERVERS=${2:-1000}; SECONDS_=${3:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
SLUICE=${SLUICE_BIN:-$HERE/../.build/release/sluice}
W=$(mktemp -d /tmp/sluice-checks.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$W/be.pid" ] && kill "$(cat "$W/be.pid")" 2>/dev/null
    wait 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
BE=$(port)

# The backend: nginx (one worker) answering 200 and logging nothing but a connection count, or Python.
if command -v nginx >/dev/null; then
    mkdir -p "$W/tmp"
    cat > "$W/be.conf" <<EOC
worker_processes 1; pid $W/be.pid; error_log $W/be.err crit; daemon on;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
  uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  server { listen 127.0.0.1:$BE backlog=4096; location / { return 200 "ok\n"; } } }
EOC
    nginx -c "$W/be.conf" -e "$W/be.err" || { echo "nginx failed"; exit 2; }
    BACKEND=nginx
else
    python3 - "$BE" <<'EOP' &
import asyncio, sys
async def serve(reader, writer):
    try:
        if await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            await writer.drain()
    except Exception:
        pass
    writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    await server.serve_forever()
asyncio.run(main())
EOP
    PIDS+=($!)
    BACKEND=python
fi
wait_port "$BE" || { echo "backend did not start"; exit 2; }

config() {  # $1 = bind port
    cat <<EOC
global
    nbthread 1
    maxconn 1000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$1
    default_backend be
backend be
EOC
    [ "$KIND" = http ] && echo "    option httpchk GET /"
    for i in $(seq 1 "$SERVERS"); do echo "    server s$i 127.0.0.1:$BE check inter 1s"; done
}

# measure NAME CMD...: starts the proxy, waits for steady state (2 s: the first checks are spread over 1 s),
# then reports CPU percent over SECONDS_ seconds.
measure() {
    local name=$1; shift
    local fp; fp=$(port)
    config "$fp" > "$W/$name.cfg"
    "$@" -f "$W/$name.cfg" > "$W/$name.log" 2>&1 &
    local pid=$!; PIDS+=($pid)
    wait_port "$fp" || { echo "$name did not start"; cat "$W/$name.log"; exit 2; }
    sleep 2
    local a0 t0 a1 t1 allocs=""
    [ -f "$W/count" ] && a0=$(python3 -c "import struct;print(struct.unpack('<Q', open('$W/count','rb').read(8))[0])")
    t0=$(ticks "$pid")
    sleep "$SECONDS_"
    t1=$(ticks "$pid")
    if [ -f "$W/count" ]; then
        a1=$(python3 -c "import struct;print(struct.unpack('<Q', open('$W/count','rb').read(8))[0])")
        allocs=$(awk -v a="$a0" -v b="$a1" -v n="$SERVERS" -v s="$SECONDS_" 'BEGIN {
            printf " allocations=%d per_check=%.3f", b - a, (b - a) / (n * s) }')
    fi
    local down; down=$(grep -c "is DOWN" "$W/$name.log")
    kill "$pid"; wait "$pid" 2>/dev/null
    awk -v t0="$t0" -v t1="$t1" -v hz="$HZ" -v s="$SECONDS_" -v n="$SERVERS" -v name="$name" \
        -v k="$KIND" -v d="$down" -v al="$allocs" -v be="$BACKEND" 'BEGIN {
        printf "%s: %d servers, %s checks every 1s (%s backend), %ds: CPU %.2f%% of one core (%.1f us per check), %d DOWN lines%s\n",
            name, n, k, be, s, 100 * (t1 - t0) / hz / s, 1e6 * (t1 - t0) / hz / (n * s), d, al }'
}

[ -x "$SLUICE" ] || { echo "no sluice binary at $SLUICE (swift build -c release)"; exit 2; }
measure sluice "$SLUICE"
if command -v gcc >/dev/null && [ -f "$HERE/tools/alloc_count.c" ]; then
    gcc -O2 -shared -fPIC -o "$W/alloc_count.so" "$HERE/tools/alloc_count.c" -ldl && {
        measure sluice-alloc-counted env LD_PRELOAD="$W/alloc_count.so" ALLOC_COUNT_FILE="$W/count" "$SLUICE"
        rm -f "$W/count"
    }
fi
if command -v haproxy >/dev/null; then
    measure haproxy haproxy -db
fi
