#!/usr/bin/env bash
# Relay throughput with scanning on vs off (issue 7): mcpcell-load drives `tools/call echo` with
# 1 MiB messages, 4 in flight, through the real `mcpcell --no-sandbox` in front of mcpcell-echo.
# Every message is scanned twice (the request c2s, the echoed result s2c), so this is the scanner's
# cost as a client sees it, relay and JSON validation included.
#
#   on   a profile with the default scan policy
#   off  the same profile with "scan": {"enabled": false}
#   direct  mcpcell-load against mcpcell-echo, no relay at all (the ceiling)
#
# Payloads: letters (plain text, no escapes) and escaped (the message is pretty-printed JSON, so
# the wire is full of \" and \n escapes and the scanner decodes it). Rounds are interleaved, so a
# busy machine slows every variant alike; medians are reported.
#
# Usage: bench/scan/relay.sh [--quick]      (MCPCELL_BUILD=dir to use another build; default build/)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${MCPCELL_BUILD:-$ROOT/build}"
MCPCELL="$BUILD/mcpcell" ECHO="$BUILD/mcpcell-echo" LOAD="$BUILD/mcpcell-load"
ROUNDS=5 COUNT=200
if [ "${1:-}" = "--quick" ]; then ROUNDS=2 COUNT=50; fi
for f in "$MCPCELL" "$ECHO" "$LOAD"; do
  [ -x "$f" ] || { echo "relay.sh: $f is missing; build first" >&2; exit 1; }
done

RAW="$(mktemp -d)"
trap 'rm -rf "$RAW"' EXIT
# A private state dir: the benchmark's audit records must not fill the user's log.
export XDG_STATE_HOME="$RAW/state" XDG_CONFIG_HOME="$RAW/config"
printf '{"schema":1,"description":"bench: default scanning","extends":["runtime:auto"]}\n' \
  >"$RAW/on.json"
printf '{"schema":1,"description":"bench: scanning off","extends":["runtime:auto"],"scan":{"enabled":false}}\n' \
  >"$RAW/off.json"
for p in on off; do "$MCPCELL" profile check "$RAW/$p.json" >/dev/null; done
# The first start compiles the scan database into the cache, as every user's first session does.
"$MCPCELL" --no-sandbox --quiet --profile "$RAW/on.json" -- /bin/true </dev/null >/dev/null 2>&1 || true

run() {  # payload variant
  local cmd=("$ECHO")
  [ "$2" = direct ] || cmd=("$MCPCELL" --no-sandbox --quiet --profile "$RAW/$2.json" -- "$ECHO")
  "$LOAD" --mode throughput --size 1048576 --count "$COUNT" --warmup 10 --payload "$1" \
    -- "${cmd[@]}" 2>/dev/null >>"$RAW/$1-$2.jsonl"
}

for r in $(seq "$ROUNDS"); do
  for payload in letters escaped; do
    for v in direct on off; do run "$payload" "$v"; done
  done
  printf 'round %s/%s done\n' "$r" "$ROUNDS" >&2
done

median() { jq -s 'map(.mib_per_s) | sort | .[length / 2 | floor]' "$1"; }
printf '%-8s %10s %10s %10s %8s\n' payload direct scan-off scan-on on/off
for payload in letters escaped; do
  d=$(median "$RAW/$payload-direct.jsonl")
  off=$(median "$RAW/$payload-off.jsonl")
  on=$(median "$RAW/$payload-on.jsonl")
  printf '%-8s %10s %10s %10s %8s\n' "$payload" "$d" "$off" "$on" \
    "$(jq -n "$on / $off * 100 | round / 100")"
done
echo "(MiB/s of 1 MiB echo calls, $ROUNDS rounds x $COUNT calls, medians; each call is scanned both ways)"
