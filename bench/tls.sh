#!/usr/bin/env bash
# TLS: sluice vs HAProxy 2.6 (nbthread 1), side by side in one run, same certificates, same nginx backend.
# Usage: bench/tls.sh [rounds=5] [seconds=5] [idle_connections=5000]
#
#  1. Full handshakes per second, TLS 1.3 and 1.2 x ECDSA P-256 (server.pem) and RSA-2048 (server-rsa.pem):
#     h2load --h1 -H 'Connection: close' (one handshake per request), resumption off on both servers
#     (`no-tls-tickets` on the bind, `tune.ssl.cachesize 0`), checked first with `openssl s_client -reconnect`
#     (the resumed share must be 0). Per round: handshakes/s and proxy CPU us per handshake; median rate ratio.
#  2. Keep-alive HTTPS: wrk -t1 -c50 over https; req/s and proxy CPU us per request; median ratios.
#  3. Memory per idle TLS connection: fresh processes, N connections held open (one request each),
#     RSS delta / N (bench/tools/idle_conns.py), for sluice, HAProxy and nginx (reference, TLS proxy_pass).
#  4. testssl (Debian's testssl.sh) against a default sluice TLS listener (and HAProxy's, for comparison):
#     protocols offered and every finding flagged LOW or worse.
# Rounds alternate which proxy goes first. Targets (../shared/design/PRODUCT.md): rates >= 0.95x HAProxy,
# memory per connection <= HAProxy's. Everything binds 127.0.0.1, every step is bounded in time, and only the
# processes this script started are stopped, by PID. Quote ratios, not absolute numbers: the machine is shared.
set -u
ROUNDS=${1:-5}; SECONDS_PER_ROUND=${2:-5}; IDLE_N=${3:-5000}
HERE=$(cd "$(dirname "$0")" && pwd)
CERTS=$(cd "$HERE/../Tests/Fixtures/certs" && pwd)
SLUICE=${SLUICE_BIN:-$HERE/../.build/release/sluice}
HAPROXY=${HAPROXY_BIN:-/usr/sbin/haproxy}
W=$(mktemp -d /tmp/sluice-bench-tls.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for tool in wrk h2load nginx openssl python3 testssl "$HAPROXY" "$SLUICE"; do
  command -v "$tool" >/dev/null || { echo "missing $tool (make deps-bench installs it)"; exit 2; }
done
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.3f", a / b }'; }

# ---- the backend: nginx, one worker, 12-byte body, plain HTTP ------------------------------------------------
BE=$(port); mkdir -p "$W/tmp"
temps="client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp; uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;"
cat > "$W/be.conf" <<EOC
worker_processes 1; pid $W/be.pid; error_log $W/be.err; daemon off;
events { worker_connections 4096; }
http { access_log off; $temps
  server { listen 127.0.0.1:$BE backlog=4096; keepalive_requests 1000000; location / { return 200 "hello world\n"; } } }
EOC
nginx -c "$W/be.conf" -e "$W/be.err" & PIDS+=($!)
wait_port "$BE" || { echo "backend not listening"; exit 2; }

# ---- the proxies: one HAProxy-syntax config, five TLS listeners -----------------------------------------------
# ka: the default TLS listener (keep-alive and idle memory); hs13ec/hs12ec/hs13rsa/hs12rsa: one protocol version
# and one key type each, resumption off (no-tls-tickets here, tune.ssl.cachesize 0 globally).
COMBOS="hs13ec hs12ec hs13rsa hs12rsa"
declare -A LABEL=([hs13ec]="TLS1.3 ECDSA-P256" [hs12ec]="TLS1.2 ECDSA-P256" [hs13rsa]="TLS1.3 RSA-2048" [hs12rsa]="TLS1.2 RSA-2048")
declare -A BINDOPT=([hs13ec]="crt $CERTS/server.pem ssl-min-ver TLSv1.3" [hs12ec]="crt $CERTS/server.pem ssl-max-ver TLSv1.2"
  [hs13rsa]="crt $CERTS/server-rsa.pem ssl-min-ver TLSv1.3" [hs12rsa]="crt $CERTS/server-rsa.pem ssl-max-ver TLSv1.2")
declare -A PORT
config() { # proxy -> config text
  local p=$1
  cat <<EOC
global
    nbthread 1
    maxconn $((IDLE_N + 1000))
    tune.ssl.cachesize 0
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
backend be
    server s1 127.0.0.1:$BE
frontend ka
    bind 127.0.0.1:${PORT[$p.ka]} ssl crt $CERTS/server.pem
    default_backend be
EOC
  for c in $COMBOS; do
    printf 'frontend %s\n    bind 127.0.0.1:%s ssl %s no-tls-tickets\n    default_backend be\n' "$c" "${PORT[$p.$c]}" "${BINDOPT[$c]}"
  done
}
for p in sluice haproxy; do for l in ka $COMBOS; do PORT[$p.$l]=$(port); done; done
start() { # proxy -> sets PID_<proxy>
  local p=$1 bin
  [ "$p" = sluice ] && bin=$SLUICE || bin=$HAPROXY
  config "$p" > "$W/$p.cfg"
  "$bin" -db -q -f "$W/$p.cfg" > "$W/$p.log" 2>&1 & local pid=$!; PIDS+=($pid)
  for l in ka $COMBOS; do wait_port "${PORT[$p.$l]}" || { echo "$p did not start:"; cat "$W/$p.log"; exit 2; }; done
  printf -v "PID_$p" '%s' "$pid"
}
stop() { local pid=$1; kill "$pid" 2>/dev/null; timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null; }
start sluice; start haproxy
pid_of() { local v="PID_$1"; echo "${!v}"; }

echo "sluice:  $("$SLUICE" -v | head -1)"
echo "haproxy: $("$HAPROXY" -v | head -1)"
echo "openssl: $(openssl version)   cpus: $(nproc)   rounds=$ROUNDS seconds=$SECONDS_PER_ROUND idle_n=$IDLE_N"

# ---- 1. full handshakes ---------------------------------------------------------------------------------------
echo
echo "== 1. full handshakes/s (h2load --h1 -c 32 -t 1, Connection: close: one handshake per request)"
printf "resumption off, checked with openssl s_client -reconnect (5 reconnections, resumed must be 0):"
for p in sluice haproxy; do for c in $COMBOS; do
  out=$(echo | timeout 30 openssl s_client -connect "127.0.0.1:${PORT[$p.$c]}" -reconnect 2>/dev/null)
  reused=$(echo "$out" | grep -c '^Reused,'); total=$(echo "$out" | grep -cE '^(New|Reused),')
  printf " %s/%s %d/%d" "$p" "$c" "$reused" "$((total > 0 ? total - 1 : 0))"
  [ "$reused" -eq 0 ] || RESUMED=1
done; done; echo
[ -z "${RESUMED:-}" ] || echo "WARNING: a server resumed a session: handshake rates below are not full handshakes"

hs_round() { # proxy combo n -> "hs/s us/hs failures"
  local p=$1 c=$2 n=$3 pid t0 t1 out rate done failed
  pid=$(pid_of "$p")
  t0=$(ticks "$pid")
  out=$(timeout $((SECONDS_PER_ROUND * 6 + 30)) h2load --h1 -n "$n" -c 32 -t 1 -H 'Connection: close' \
        "https://127.0.0.1:${PORT[$p.$c]}/" 2>/dev/null | grep -vE 'No protocol negotiated|Falling back|^progress')
  t1=$(ticks "$pid")
  echo "$out" > "$W/h2load.$p.$c.last"
  rate=$(echo "$out" | awk '/^finished in/ { gsub(",", "", $4); print $4 }')
  done=$(echo "$out" | awk '/^requests:/ { print $8 }')
  failed=$(echo "$out" | awk '/^requests:/ { print $10 + $12 + $14 }')
  awk -v r="${rate:-0}" -v d="${done:-0}" -v f="${failed:-?}" -v t=$((t1 - t0)) -v hz="$HZ" \
    'BEGIN { if (d > 0 && r > 0) printf "%.0f %.0f %s\n", r, t * 1000000 / hz / d, f; else print "NA NA " f }'
}
declare -A SUMMARY
for c in $COMBOS; do
  # Calibrate: a warm-up on each proxy; n = HAProxy's rate x seconds per round.
  hs_round sluice "$c" 300 >/dev/null
  read -r hrate _ _ < <(hs_round haproxy "$c" 300)
  n=$(awk -v r="$hrate" -v s="$SECONDS_PER_ROUND" 'BEGIN { n = int(r * s); print (n < 500 ? 500 : n) }')
  neg() { grep -E '^(TLS Protocol|Cipher|Server Temp Key):' "$W/h2load.$1.$c.last" | sed 's/^[^:]*: //' | paste -sd' '; }
  echo "-- ${LABEL[$c]}  ($n handshakes per run; sluice: $(neg sluice); haproxy: $(neg haproxy))"
  rates=(); cpus=()
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then
      read -r sr su sf < <(hs_round sluice "$c" "$n"); read -r hr hu hf < <(hs_round haproxy "$c" "$n")
    else
      read -r hr hu hf < <(hs_round haproxy "$c" "$n"); read -r sr su sf < <(hs_round sluice "$c" "$n")
    fi
    rr=$(ratio "$sr" "$hr"); cr=$(ratio "$su" "$hu"); rates+=("$rr"); cpus+=("$cr")
    printf "round %d  sluice %6s hs/s %5s us/hs   haproxy %6s hs/s %5s us/hs   rate ratio %s  cpu ratio %s  failures %s/%s\n" \
      "$r" "$sr" "$su" "$hr" "$hu" "$rr" "$cr" "$sf" "$hf"
  done
  mr=$(printf "%s\n" "${rates[@]}" | grep -v NA | median); mc=$(printf "%s\n" "${cpus[@]}" | grep -v NA | median)
  verdict=$(awk -v m="$mr" 'BEGIN { print (m != "NA" && m >= 0.95) ? "meets" : "MISSES" }')
  echo "${LABEL[$c]}: median rate ratio $mr (target >= 0.95: $verdict), median cpu/handshake ratio $mc"
  SUMMARY[$c]="${LABEL[$c]}: rate ratio $mr ($verdict), cpu ratio $mc"
done

# ---- 2. keep-alive HTTPS --------------------------------------------------------------------------------------
echo
echo "== 2. keep-alive HTTPS (wrk -t1 -c50 -d${SECONDS_PER_ROUND}s, TLS 1.3 ECDSA, one handshake per connection)"
ka_round() { # proxy -> "req/s us/req errors"
  local p=$1 pid t0 t1 out n rps errs
  pid=$(pid_of "$p")
  t0=$(ticks "$pid")
  out=$(timeout $((SECONDS_PER_ROUND + 30)) wrk -t1 -c50 -d"${SECONDS_PER_ROUND}s" "https://127.0.0.1:${PORT[$p.ka]}/" 2>&1)
  t1=$(ticks "$pid")
  n=$(echo "$out" | awk '/requests in/{print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  errs=$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr -s ' ' | tr '\n' ';')
  awk -v t=$((t1 - t0)) -v n="${n:-0}" -v r="${rps:-0}" -v hz="$HZ" -v e="${errs:-}" \
    'BEGIN { if (n > 0) printf "%.0f %.2f %s\n", r, t * 1000000 / hz / n, (e == "" ? "-" : e); else print "NA NA -" }'
}
ka_round sluice >/dev/null; ka_round haproxy >/dev/null  # warm-up
rates=(); cpus=()
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then
    read -r sr su se < <(ka_round sluice); read -r hr hu he < <(ka_round haproxy)
  else
    read -r hr hu he < <(ka_round haproxy); read -r sr su se < <(ka_round sluice)
  fi
  rr=$(ratio "$sr" "$hr"); cr=$(ratio "$su" "$hu"); rates+=("$rr"); cpus+=("$cr")
  printf "round %d  sluice %7s req/s %6s us/req   haproxy %7s req/s %6s us/req   rate ratio %s  cpu ratio %s  errors: %s %s\n" \
    "$r" "$sr" "$su" "$hr" "$hu" "$rr" "$cr" "$se" "$he"
done
mr=$(printf "%s\n" "${rates[@]}" | grep -v NA | median); mc=$(printf "%s\n" "${cpus[@]}" | grep -v NA | median)
kaverdict=$(awk -v m="$mr" 'BEGIN { print (m != "NA" && m >= 0.95) ? "meets" : "MISSES" }')
echo "keep-alive HTTPS: median rate ratio $mr (target >= 0.95: $kaverdict), median cpu/request ratio $mc (target <= 1.0)"
KASUMMARY="keep-alive HTTPS: rate ratio $mr ($kaverdict), cpu ratio $mc"

# ---- 3. memory per idle TLS connection ------------------------------------------------------------------------
echo
echo "== 3. memory per idle TLS connection ($IDLE_N held open, one request each; fresh processes; RSS delta / N)"
stop "$PID_sluice"; stop "$PID_haproxy"
start sluice; start haproxy
NG=$(port)
cat > "$W/ref.conf" <<EOC
worker_processes 1; pid $W/ref.pid; error_log $W/ref.err; daemon off; worker_rlimit_nofile $((IDLE_N * 2 + 1000));
events { worker_connections $((IDLE_N + 1000)); }
http { access_log off; $temps
  upstream be { server 127.0.0.1:$BE; keepalive 32; }
  server { listen 127.0.0.1:$NG ssl backlog=4096; ssl_certificate $CERTS/server.pem; ssl_certificate_key $CERTS/server.pem;
    ssl_session_cache off; keepalive_timeout 300s; keepalive_requests 1000000;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
EOC
nginx -c "$W/ref.conf" -e "$W/ref.err" & NGM=$!; PIDS+=($NGM)
wait_port "$NG" || { echo "nginx reference did not start"; cat "$W/ref.err"; }
NGW=$(cat "/proc/$NGM/task/$NGM/children" 2>/dev/null | awk '{print $1}')
declare -A MEM
idle() { # name pid port
  local out
  # One connection first, so that what every process allocates once (TLS contexts' first use) is not counted.
  curl -sk -o /dev/null "https://127.0.0.1:$3/" || true
  out=$(timeout 300 python3 "$HERE/tools/idle_conns.py" "$2" "$3" "$IDLE_N" https 2>&1 | tail -1)
  read -r before after per <<<"$out"
  MEM[$1]=${per:-NA}
  printf "%-8s rss before %7s KB  after %7s KB  -> %6s bytes per idle TLS connection\n" "$1" "${before:-?}" "${after:-?}" "${per:-NA ($out)}"
}
idle sluice "$PID_sluice" "${PORT[sluice.ka]}"
idle haproxy "$PID_haproxy" "${PORT[haproxy.ka]}"
[ -n "$NGW" ] && idle nginx "$NGW" "$NG"
memverdict=$(awk -v s="${MEM[sluice]}" -v h="${MEM[haproxy]}" 'BEGIN { if (s == "NA" || h == "NA") print "NA"; else print (s + 0 <= h + 0) ? "meets" : "MISSES" }')
echo "memory per idle TLS connection: sluice ${MEM[sluice]} B, haproxy ${MEM[haproxy]} B, nginx ${MEM[nginx]:-NA} B (target sluice <= haproxy: $memverdict)"
stop "$NGM"

# ---- 4. testssl -----------------------------------------------------------------------------------------------
echo
echo "== 4. testssl $(testssl --version 2>/dev/null | grep -oE 'testssl +[0-9.]+' | head -1 | awk '{print $2}') (-p -s -U) against default TLS listeners (bind ... ssl crt server.pem, nothing else)"
testssl_summary() { # name bin
  local name=$1 bin=$2 tp pid
  tp=$(port)
  printf 'global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:%s ssl crt %s\n    default_backend be\nbackend be\n    server s1 127.0.0.1:%s\n' \
    "$tp" "$CERTS/server.pem" "$BE" > "$W/testssl-$name.cfg"
  "$bin" -db -q -f "$W/testssl-$name.cfg" > "$W/testssl-$name.log" 2>&1 & pid=$!; PIDS+=($pid)
  wait_port "$tp" || { echo "$name: listener did not start"; return; }
  timeout 600 testssl --quiet --color 0 --warnings off --nodns min -p -s -U --jsonfile "$W/testssl-$name.json" \
    "127.0.0.1:$tp" > "$W/testssl-$name.txt" 2>&1
  stop "$pid"
  python3 - "$name" "$W/testssl-$name.json" <<'EOP'
import json, sys
name, path = sys.argv[1], sys.argv[2]
try:
    items = json.load(open(path))
except Exception as e:
    print(f"{name}: no testssl result ({e})"); sys.exit(0)
protos = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLS1": "TLS1.0", "TLS1_1": "TLS1.1", "TLS1_2": "TLS1.2", "TLS1_3": "TLS1.3"}
offered = [label for key, label in protos.items()
           for it in items if it.get("id") == key and it.get("finding", "").startswith("offered")]
flagged = [f'{it["id"]} [{it["severity"]}]: {it["finding"]}' for it in items
           if it.get("severity") in ("LOW", "MEDIUM", "HIGH", "CRITICAL")]
print(f"{name}: protocols offered: {', '.join(offered) or 'none'}; flagged (LOW or worse): {len(flagged)}")
for f in flagged:
    print(f"    {f}")
EOP
}
testssl_summary sluice "$SLUICE"
testssl_summary haproxy "$HAPROXY"

echo
echo "== summary"
for c in $COMBOS; do echo "${SUMMARY[$c]}"; done
echo "$KASUMMARY"
echo "memory per idle TLS connection: sluice ${MEM[sluice]} B, haproxy ${MEM[haproxy]} B, nginx ${MEM[nginx]:-NA} B ($memverdict)"
