#!/usr/bin/env bash
# Sandbox start-up overhead, same machine, same run:
#   1. sandboxed /bin/true through mcpcell (relay, audit, filters) and through sandbox-driver
#      (sandbox::spawn alone), against `bwrap --unshare-all --die-with-parent --new-session` with a
#      minimal root (/usr read-only, merged-/usr symlinks, fresh /proc and /dev, tmpfs /tmp);
#   2. time to server-everything's initialize result: direct, through mcpcell --no-sandbox, and
#      through mcpcell (interleaved runs).
# usage: bench/sandbox/startup.sh [BUILD_DIR]   (default: build)   env RUNS=N (default 50),
#        BASE_BUILD=DIR adds that build's sandbox-driver and mcpcell (a before/after in the same run),
#        ROUNDS=N repeats the hyperfine batch N times and reports the median of the per-round medians
#        (the machine is shared: rounds interleave the commands over time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${1:-$src/build}"
runs="${RUNS:-50}"
mcpcell="$build/mcpcell"
driver="$build/sandbox-driver"
for tool in hyperfine bwrap node; do
  command -v "$tool" >/dev/null || { echo "startup.sh: $tool is missing (apt-get install $tool)"; exit 2; }
done
[ -x "$mcpcell" ] && [ -x "$driver" ] || { echo "startup.sh: build $mcpcell and $driver first"; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config"

source "$here/bwrap_root.sh"

rounds="${ROUNDS:-1}"
cmds=(-n direct "/bin/true" -n bwrap "bwrap ${bwrap_args[*]} /bin/true"
      -n sandbox-driver "$driver -- /bin/true" -n mcpcell "$mcpcell --name bench-true -- /bin/true"
      -n mcpcell-nosandbox "$mcpcell --no-sandbox --name bench-true -- /bin/true")
if [ -n "${BASE_BUILD:-}" ]; then
  cmds+=(-n "sandbox-driver(base)" "$BASE_BUILD/sandbox-driver -- /bin/true"
         -n "mcpcell(base)" "$BASE_BUILD/mcpcell --name bench-true -- /bin/true")
fi
echo "== start-up of /bin/true ($rounds x $runs runs each; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
for r in $(seq 1 "$rounds"); do
  hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/startup.$r.json" "${cmds[@]}" >/dev/null
done
node -e '
  const rounds = process.argv.slice(1).map(f => require(f).results);
  const med = (a) => { const s = [...a].sort((x, y) => x - y); const h = s.length >> 1;
                       return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
  const m = {};
  for (const r of rounds) for (const x of r) (m[x.command] ||= []).push(x.median * 1e3);
  for (const [k, v] of Object.entries(m))
    console.log(`${k.padEnd(21)} median ${med(v).toFixed(2)} ms` +
                (v.length > 1 ? `  (rounds: ${v.map(x => x.toFixed(1)).join(" ")})` : ""));
  const ratio = (a) => m[a] ? (med(m[a]) / med(m.bwrap)).toFixed(2) : "-";
  console.log(`ratio sandbox-driver/bwrap ${ratio("sandbox-driver")}  (target <= 1.0; medians)`);
  console.log(`ratio mcpcell/bwrap        ${ratio("mcpcell")}  (includes relay, audit and filters)`);
  const sb = med(m.mcpcell) - med(m["mcpcell-nosandbox"]);
  console.log(`mcpcell minus mcpcell --no-sandbox: ${sb.toFixed(2)} ms = ` +
              `${(sb / med(m.bwrap)).toFixed(2)} x bwrap (the sandbox share of the whole start)`);
  if (m["sandbox-driver(base)"])
    console.log(`baseline: sandbox-driver ${ratio("sandbox-driver(base)")}, mcpcell ${ratio("mcpcell(base)")}`);
' $(for r in $(seq 1 "$rounds"); do echo "$work/startup.$r.json"; done)

everything="$src/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
if [ -f "$everything" ]; then
  n=$(( runs < 20 ? runs : 20 ))
  echo "== time to server-everything's initialize result ($n runs each, interleaved)"
  # --no-sandbox separates the launcher's own start (scan database, audit) from the sandbox's.
  node "$here/init_time.mjs" "$n" -- direct=node "$everything" stdio \
    --- nosandbox="$mcpcell" --no-sandbox --name bench-everything -- node "$everything" stdio \
    --- mcpcell="$mcpcell" --name bench-everything -- node "$everything" stdio
fi
