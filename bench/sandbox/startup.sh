#!/usr/bin/env bash
# Sandbox start-up overhead, same machine, same run:
#   1. sandboxed /bin/true through mcpcell (relay, audit, filters) and through sandbox-driver
#      (sandbox::spawn alone), against `bwrap --unshare-all --die-with-parent --new-session` with a
#      minimal root (/usr read-only, merged-/usr symlinks, fresh /proc and /dev, tmpfs /tmp);
#   2. time to server-everything's initialize result, through mcpcell vs direct.
# usage: bench/sandbox/startup.sh [BUILD_DIR]   (default: build)   env RUNS=N (default 50)
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

bwrap_args=(--unshare-all --die-with-parent --new-session --ro-bind /usr /usr)
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then bwrap_args+=(--symlink "$(readlink "/$d")" "/$d");
  elif [ -d "/$d" ]; then bwrap_args+=(--ro-bind "/$d" "/$d"); fi
done
bwrap_args+=(--proc /proc --dev /dev --tmpfs /tmp)

echo "== start-up of /bin/true ($runs runs each; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/startup.json" \
  -n direct "/bin/true" \
  -n bwrap "bwrap ${bwrap_args[*]} /bin/true" \
  -n sandbox-driver "$driver -- /bin/true" \
  -n mcpcell "$mcpcell --name bench-true -- /bin/true" >/dev/null
node -e '
  const r = require(process.argv[1]).results;
  const m = Object.fromEntries(r.map(x => [x.command, x]));
  for (const x of r) console.log(`${x.command.padEnd(15)} mean ${(x.mean*1e3).toFixed(2)} ms  ` +
    `median ${(x.median*1e3).toFixed(2)} ms  sd ${(x.stddev*1e3).toFixed(2)} ms`);
  const ratio = (a) => (m[a].mean / m.bwrap.mean).toFixed(2);
  console.log(`ratio sandbox-driver/bwrap ${ratio("sandbox-driver")}  (target <= 1.0)`);
  console.log(`ratio mcpcell/bwrap        ${ratio("mcpcell")}  (includes relay, audit and filters)`);
' "$work/startup.json"

everything="$src/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
if [ -f "$everything" ]; then
  n=$(( runs < 20 ? runs : 20 ))
  echo "== time to server-everything's initialize result ($n runs each)"
  echo -n "direct   "; node "$here/init_time.mjs" "$n" -- node "$everything" stdio
  echo -n "mcpcell  "; node "$here/init_time.mjs" "$n" -- "$mcpcell" --name bench-everything -- node "$everything" stdio
fi
