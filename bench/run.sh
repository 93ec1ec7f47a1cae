#!/usr/bin/env bash
# sluice vs HAProxy 2.6 (nbthread 1) [vs nginx, 1 worker, in http mode], side by side on the same nginx backend,
# in one run.
# Usage: bench/run.sh [modes="http tcp"] [rounds=5] [seconds=5]
#   modes: space-separated list of http and tcp (https: see bench/tls.sh)
# For each mode: alternating wrk rounds (1 thread, 50 keep-alive connections, small body) against each proxy,
# printing req/s and proxy CPU microseconds per request (utime+stime from /proc/PID/stat) for every round,
# the median CPU ratio sluice/HAProxy, then syscalls per request counted with `strace -c -f` over a fixed
# 20,000 keep-alive requests (h2load). Everything binds 127.0.0.1 only and stops by itself.
# Quote ratios, not absolute numbers: the machine is shared and noisy.
set -u
MODES=${1:-http tcp}; ROUNDS=${2:-5}; SECONDS_PER_ROUND=${3:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
SLUICE=${SLUICE_BIN:-$HERE/../.build/release/sluice}
HAPROXY=${HAPROXY_BIN:-/usr/sbin/haproxy}
W=$(mktemp -d /tmp/sluice-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$W/be.pid" ] && kill "$(cat "$W/be.pid")" 2>/dev/null
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
for tool in wrk h2load strace nginx "$HAPROXY" "$SLUICE"; do
  command -v "$tool" >/dev/null || { echo "missing $tool (make bench installs it)"; exit 2; }
done
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# The backend: nginx, one worker, a 12-byte body.
BE=$(port); mkdir -p "$W/tmp"
cat > "$W/be.conf" <<EOC
worker_processes 1; pid $W/be.pid; error_log $W/be.err; daemon on;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
  uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  server { listen 127.0.0.1:$BE backlog=4096; keepalive_requests 1000000; location / { return 200 "hello world\n"; } } }
EOC
nginx -c "$W/be.conf" -e "$W/be.err" || { echo "backend failed to start"; exit 2; }
wait_port "$BE" || { echo "backend not listening"; exit 2; }

config() { # mode port
  cat <<EOC
global
    maxconn 8000
    nbthread 1
defaults
    mode $1
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$2
    default_backend be
backend be
$( [ "$1" = http ] && echo "    http-reuse always" )
    server s1 127.0.0.1:$BE
EOC
}
nginx_proxy() { # port -> starts nginx as a reverse proxy (1 worker, upstream keep-alive) and prints its pid file
  cat > "$W/np.conf" <<EOC
worker_processes 1; pid $W/np.pid; error_log $W/np.err; daemon on;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
  uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  upstream up { server 127.0.0.1:$BE; keepalive 64; }
  server { listen 127.0.0.1:$1 backlog=4096; keepalive_requests 1000000;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
EOC
  nginx -c "$W/np.conf" -e "$W/np.err"
}
worker_of() { pgrep -P "$(cat "$1")" | head -1; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)
round() { # pid port -> "req/s us/req errors"
  local t0 t1 out n rps errs
  t0=$(ticks "$1")
  out=$(wrk -t1 -c50 -d"${SECONDS_PER_ROUND}s" "http://127.0.0.1:$2/" 2>&1)
  t1=$(ticks "$1")
  n=$(echo "$out" | awk '/requests in/{print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  errs=$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr -s ' ' | tr '\n' ';')
  awk -v t=$((t1 - t0)) -v n="${n:-0}" -v r="${rps:-0}" -v hz="$HZ" -v e="${errs:-}" \
    'BEGIN { if (n > 0) printf "%s %.2f %s\n", r, t * 1000000 / hz / n, (e == "" ? "-" : e); else print "0 NA -" }'
}
syscalls() { # pid port -> syscalls per request over 20,000 requests
  local o="$W/strace.$1"
  strace -c -f -q -o "$o" -p "$1" & local sp=$!
  sleep 0.5  # strace needs a moment to attach; it prints nothing we could wait for
  h2load --h1 -n 20000 -c 10 "http://127.0.0.1:$2/" >/dev/null 2>&1
  kill -INT $sp; wait $sp 2>/dev/null
  awk '/ total$/ { printf "%.2f\n", $4 / 20000 }' "$o" | tail -1
}

echo "sluice:  $("$SLUICE" -v | head -1)"
echo "haproxy: $("$HAPROXY" -v | head -1)"
echo "rounds=$ROUNDS seconds=$SECONDS_PER_ROUND wrk -t1 -c50; backend nginx 1 worker"
for MODE in $MODES; do
  PS=$(port); PH=$(port)
  config "$MODE" "$PS" > "$W/sluice-$MODE.cfg"
  config "$MODE" "$PH" > "$W/haproxy-$MODE.cfg"
  "$SLUICE" -q -f "$W/sluice-$MODE.cfg" > "$W/sluice-$MODE.log" 2>&1 & SP=$!; PIDS+=($SP)
  "$HAPROXY" -db -q -f "$W/haproxy-$MODE.cfg" > "$W/haproxy-$MODE.log" 2>&1 & HP=$!; PIDS+=($HP)
  wait_port "$PS" || { echo "sluice did not start:"; cat "$W/sluice-$MODE.log"; exit 2; }
  wait_port "$PH" || { echo "haproxy did not start:"; cat "$W/haproxy-$MODE.log"; exit 2; }
  NP=""; NW=""
  if [ "$MODE" = http ]; then
    PN=$(port); nginx_proxy "$PN"; wait_port "$PN" && NP="$W/np.pid" && NW=$(worker_of "$NP")
  fi
  echo "== mode $MODE"
  ratios=()
  for r in $(seq "$ROUNDS"); do
    read -r sr su se < <(round "$SP" "$PS")
    read -r hr hu he < <(round "$HP" "$PH")
    ratio=$(awk -v a="$su" -v b="$hu" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%.3f", a / b }')
    ratios+=("$ratio")
    printf "round %d  sluice %10s req/s %6s us/req   haproxy %10s req/s %6s us/req   ratio %s   errors: sluice %s haproxy %s\n" \
      "$r" "$sr" "$su" "$hr" "$hu" "$ratio" "$se" "$he"
    if [ -n "$NW" ]; then
      read -r nr nu ne < <(round "$NW" "$PN")
      printf "         nginx  %10s req/s %6s us/req   (reference, 1 worker)   errors: %s\n" "$nr" "$nu" "$ne"
    fi
  done
  median=$(printf "%s\n" "${ratios[@]}" | grep -v NA | sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "NA"; else print a[int((NR + 1) / 2)] }')
  ss=$(syscalls "$SP" "$PS"); hs=$(syscalls "$HP" "$PH")
  echo "mode=$MODE cpu_ratio_median=$median (target <= 1.0)  syscalls_per_request sluice=$ss haproxy=$hs"
  if [ "$MODE" = http ] && [ "${MEMORY_CONNECTIONS:-5000}" -gt 0 ]; then
    # Memory per idle keep-alive connection: N connections, one request each, held open; RSS delta / N.
    N=${MEMORY_CONNECTIONS:-5000}
    read -r _ _ sm < <(python3 "$HERE/tools/idle_conns.py" "$SP" "$PS" "$N")
    read -r _ _ hm < <(python3 "$HERE/tools/idle_conns.py" "$HP" "$PH" "$N")
    nm="NA"; [ -n "$NW" ] && read -r _ _ nm < <(python3 "$HERE/tools/idle_conns.py" "$NW" "$PN" "$N")
    echo "memory per idle keep-alive connection (N=$N): sluice=${sm} B haproxy=${hm} B nginx=${nm} B"
  fi
  kill "$SP" "$HP" 2>/dev/null; wait "$SP" "$HP" 2>/dev/null
  [ -n "$NP" ] && kill "$(cat "$NP")" 2>/dev/null
done
