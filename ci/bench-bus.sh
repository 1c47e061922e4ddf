#!/usr/bin/env bash
# Throughput of the bus roles against one process (docs/BUS.md): N queries (a query list
# under example., every name answered by an Unbound of its own from a local zone, on
# 127.0.0.1) compared by `shadowdns run`, then by `shadowdns bus` with 1 and with W workers
# (a redis-server of its own, no persistence).  The queries are published before the
# workers start; the rate is observations / (last stored_at - first stored_at).  Each
# process's CPU time (user + sys, /usr/bin/time) is given per 1,000 queries: on a shared
# machine the rates follow the load, the CPU per query much less.
# Usage: ci/bench-bus.sh [N] [W]   (loopback only; ports 127.0.0.1:25353 and :26379)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
W=${2:-2}
PY=$PWD/.venv/bin/python
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
cat > "$tmp/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: 25353
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$tmp"
  pidfile: ""
  use-syslog: no
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  local-zone: "example." redirect
  local-data: "example. 300 IN A 192.0.2.1"
remote-control:
  control-enable: no
CONF
unbound -c "$tmp/unbound.conf" 2>/dev/null & pids+=($!)
redis-server --port 26379 --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
  --daemonize no >/dev/null & pids+=($!)
sleep 1
for i in $(seq 1 "$N"); do echo "n$i.d$((i % 997)).example. A"; done > "$tmp/names.txt"
targets=(--candidate 127.0.0.1:25353 --reference address@127.0.0.1:25353 --live off)
redis_cpu() {  # seconds of CPU redis-server has used
  redis-cli -p 26379 info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {print s}'
}
T=(/usr/bin/time -f "%U %S" -o)
cpu() {  # CPU seconds per 1,000 queries in the /usr/bin/time output $1
  awk -v n="$N" '{printf "%.3f", ($1 + $2) * 1000 / n}' "$1"
}
rate() {  # observations per second of stored_at in the store $1
  "$PY" - "$1" <<'PYRATE'
import sqlite3, sys
n, lo, hi = sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*), min(stored_at), max(stored_at) FROM observations").fetchone()
print(f"{n} observations, {n / (hi - lo):.0f}/s")
PYRATE
}
echo "one process (shadowdns run):"
"${T[@]}" "$tmp/run.cpu" "$PY" -m shadowdns run --query-list "$tmp/names.txt" "${targets[@]}" --db "$tmp/one.db" \
  >/dev/null 2>"$tmp/run.err"
rate "$tmp/one.db"
echo "CPU s per 1,000 queries: run $(cpu "$tmp/run.cpu")"
for workers in 1 "$W"; do
  redis-cli -p 26379 flushall >/dev/null
  cpu0=$(redis_cpu)
  bus=(--redis redis://127.0.0.1:26379/0 --shards 4 --live off)
  "${T[@]}" "$tmp/collect.cpu" "$PY" -m shadowdns bus collect "${bus[@]}" \
    --db "$tmp/bus$workers.db" --until-drained > "$tmp/collect.out" 2>"$tmp/collect.err" & collector=$!
  sleep 3
  "${T[@]}" "$tmp/intake.cpu" "$PY" -m shadowdns bus intake "${bus[@]}" \
    --query-list "$tmp/names.txt" >/dev/null
  wpids=()
  for w in $(seq 1 "$workers"); do
    "$PY" -m shadowdns bus worker "${bus[@]}" "${targets[@]}" --consumer "w$w" \
      >/dev/null 2>"$tmp/w$w.err" & wpids+=($!)
  done
  wait "$collector"
  tick=$(getconf CLK_TCK)
  for p in "${wpids[@]}"; do  # (their CPU time before they are stopped)
    awk -v t="$tick" '{print $14 / t, $15 / t}' "/proc/$p/stat" > "$tmp/wk-$p.cpu"
    kill -TERM "$p"; wait "$p" || true
  done
  echo "bus, $workers worker(s): $(tail -1 "$tmp/collect.out")"
  rate "$tmp/bus$workers.db"
  cpu1=$(redis_cpu)
  cat "$tmp"/wk-*.cpu | awk '{u += $1; s += $2} END {print u, s}' > "$tmp/allworkers.cpu"
  rm -f "$tmp"/wk-*.cpu
  echo "CPU s per 1,000 queries: intake $(cpu "$tmp/intake.cpu"), workers (all)\
 $(cpu "$tmp/allworkers.cpu"), collector $(cpu "$tmp/collect.cpu")"
  echo "redis: $(redis-cli -p 26379 info memory | grep -E '^used_memory_peak_human' | tr -d '\r'),\
 CPU $(echo "($cpu1 - $cpu0) * 1000 / $N" | bc -l | cut -c1-5) s per 1,000 queries"
done
