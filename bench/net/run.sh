#!/usr/bin/env bash
# Egress benchmark (issue 5): a 100 MB transfer each way and connection set-up latency (connect,
# 1-byte round trip, close) through mcpcell's egress path vs direct, interleaved round by round on
# the same machine. "Direct" is the client in the host's namespace dialing 127.0.0.1; "egress" is
# the same client inside a fresh network namespace (build/mcpcell-net-harness) dialing a name that
# mcpcell's DNS answers and mcpcell dials out for. Only loopback is used.
#
# Usage: bench/net/run.sh [--quick]    (MCPCELL_BUILD=dir; default build/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${MCPCELL_BUILD:-$ROOT/build}"
BENCH="$BUILD/mcpcell-net-bench" HARNESS="$BUILD/mcpcell-net-harness"
for f in "$BENCH" "$HARNESS"; do [ -x "$f" ] || { echo "bench/net: $f missing; build first" >&2; exit 1; }; done
ROUNDS=3 BYTES=100000000 CONNS=2000
if [ "${1:-}" = "--quick" ]; then ROUNDS=1 CONNS=500; fi

RAW="$(mktemp -d)"
"$BENCH" server >"$RAW/port" & SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$RAW"' EXIT
for _ in $(seq 50); do [ -s "$RAW/port" ] && break; sleep 0.1; done
PORT="$(cat "$RAW/port")"
export MCPCELL_TEST_HOSTS="bench.example.test=127.0.0.1"
egress() { "$HARNESS" --allow "bench.example.test:$PORT" --allow "localhost:$PORT" --audit "$RAW/audit" -- "$BENCH" "$@"; }
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }

printf '%-22s %14s %14s %8s\n' "" direct egress ratio
for mode in upload download; do
  for r in $(seq "$ROUNDS"); do
    d=$("$BENCH" "$mode" 127.0.0.1 "$PORT" "$BYTES" | field MBps)
    e=$(egress "$mode" bench.example.test "$PORT" "$BYTES" 2>/dev/null | field MBps)
    printf '%-22s %11s MB/s %9s MB/s %8s\n' "$mode 100 MB (round $r)" "$d" "$e" "$(awk -v e="$e" -v d="$d" 'BEGIN{printf "%.2f", e/d}')"
  done
done
for r in $(seq "$ROUNDS"); do
  d=$("$BENCH" latency 127.0.0.1 "$PORT" "$CONNS")
  e=$(egress latency bench.example.test "$PORT" "$CONNS" 2>/dev/null)
  printf '%-22s %11s us %11s us   (p50)\n' "connect (round $r)" "$(echo "$d" | field p50_us)" "$(echo "$e" | field p50_us)"
  printf '%-22s %11s us %11s us   (p99)\n' "" "$(echo "$d" | field p99_us)" "$(echo "$e" | field p99_us)"
done
echo "audit records written during the egress runs: $(wc -l <"$RAW/audit")"
