#!/usr/bin/env bash
# Pins benchmark (issue 6): the cost of pinning a 500-tool list. A client times tools/list round
# trips against the rug-pull fixture advertising 500 tools (~300 KB per list), directly and through
# mcpcell (whole chain: pins + scan + audit), interleaved round by round. The first list of a first
# session pins all 500 items; later lists compare 500 hashes. mcpcell-pins-bench times the pin
# filter alone on the same list (parse, canonicalize, SHA-256, compare).
#
# Usage: bench/pins/run.sh [--quick]    (MCPCELL_BUILD=dir; default build/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${MCPCELL_BUILD:-$ROOT/build}"
MCPCELL="$BUILD/mcpcell"
[ -x "$MCPCELL" ] || { echo "bench/pins: $MCPCELL missing; build first" >&2; exit 1; }
ROUNDS=5 COUNT=200
if [ "${1:-}" = "--quick" ]; then ROUNDS=2 COUNT=50; fi
RAW="$(mktemp -d)"
trap 'rm -rf "$RAW"' EXIT
export HOME="$RAW/home" XDG_STATE_HOME="$RAW/state" XDG_CONFIG_HOME="$RAW/config"
mkdir -p "$HOME"
SERVER=(node "$ROOT/examples/servers/rugpull/server.mjs" --extra-tools 496)
DRIVER=(node "$ROOT/bench/pins/list_bench.mjs" "$COUNT" --)
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }

printf '%-10s %-26s %10s %10s %10s %10s\n' round mode first_ms p50_ms p90_ms mean_ms
for r in $(seq "$ROUNDS"); do
  rm -rf "$XDG_STATE_HOME"  # every round starts unpinned
  d=$("${DRIVER[@]}" "${SERVER[@]}")
  f=$("${DRIVER[@]}" "$MCPCELL" --no-sandbox --quiet --name bench -- "${SERVER[@]}" 2>/dev/null)
  s=$("${DRIVER[@]}" "$MCPCELL" --no-sandbox --quiet --name bench -- "${SERVER[@]}" 2>/dev/null)
  for pair in "direct:$d" "mcpcell-first-session:$f" "mcpcell-pinned:$s"; do
    mode="${pair%%:*}" j="${pair#*:}"
    printf '%-10s %-26s %10s %10s %10s %10s\n' "$r" "$mode" "$(echo "$j" | field first_ms)" \
      "$(echo "$j" | field p50_ms)" "$(echo "$j" | field p90_ms)" "$(echo "$j" | field mean_ms)"
  done
done
echo "list size: $(echo "$d" | field bytes) bytes, $(echo "$d" | field tools) tools"
if [ -x "$BUILD/mcpcell-pins-bench" ]; then
  "$BUILD/mcpcell-pins-bench" 500 200
fi
