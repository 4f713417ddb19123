#!/usr/bin/env bash
# Where the wall time of a short sandboxed run goes, phase by phase, from the scheduler's own
# tracepoints (no instrumentation in mcpcell): fork of the command, its exec, every process and
# thread it forks, each exit, and the caller's wait4 returning. Medians over RUNS runs, for each
# command given, so mcpcell and bwrap can be read side by side. Every interval is stretched a
# little alike by the recording; compare phases, not totals, with startup.sh.
# usage: bench/sandbox/phases.sh [BUILD_DIR]   (default: build; needs perf and root)   env RUNS=N
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${1:-$src/build}"
runs="${RUNS:-30}"
for tool in perf bwrap python3; do
  command -v "$tool" >/dev/null || { echo "phases.sh: $tool is missing"; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config"

source "$here/bwrap_root.sh"

phases() {  # NAME COMMAND...
  local name=$1; shift
  "$@" >/dev/null 2>&1 || true  # warm the caches (and the scan database)
  perf record -q -o "$work/$name.data" -e sched:sched_process_fork -e sched:sched_process_exec \
    -e sched:sched_process_exit -e syscalls:sys_exit_wait4 -- \
    bash -c 'for i in $(seq "$0"); do "$@" >/dev/null 2>&1; done' "$runs" "$@" >/dev/null 2>&1
  perf script -i "$work/$name.data" -F comm,pid,tid,time,event,trace 2>/dev/null >"$work/$name.txt"
  echo "== $name"
  python3 - "$work/$name.txt" <<'PY'
import re, sys, statistics as st
from collections import defaultdict
runs, cur = [], None
for line in open(sys.argv[1]):
    m = re.match(r'\s*(\S+)\s+(\d+)/(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)', line)
    if not m:
        continue
    comm, pid, tid, t, ev, arg = m[1], int(m[2]), int(m[3]), float(m[4]) * 1e3, m[5], m[6]
    if comm == 'bash' and ev == 'sched:sched_process_fork':
        cur = {'pid': int(re.search(r'child_pid=(\d+)', arg)[1]), 'ev': [('fork', t)]}
        runs.append(cur)
    elif cur is None:
        continue
    elif comm == 'bash' and ev == 'syscalls:sys_exit_wait4':
        if not arg.startswith('0xfff'):
            cur['ev'].append(("caller's wait returns", t))
            cur = None
    elif ev == 'sched:sched_process_exec':
        cur['ev'].append(('exec ' + arg.split('=')[1].split()[0].split('/')[-1], t))
    elif ev == 'sched:sched_process_fork':
        cur['ev'].append((f'{comm} forks', t))
    elif ev == 'sched:sched_process_exit':
        if pid != cur['pid']:
            what = f'{comm} exits'
        elif tid == pid:
            what = f'{comm} exits (the command)'
        else:
            what = f'a thread of {comm} exits'
        cur['ev'].append((what, t))
# Runs differ in how threads interleave; report the most common sequence of events.
by_seq = defaultdict(list)
for r in runs:
    t0 = r['ev'][0][1]
    by_seq[tuple(n for n, _ in r['ev'])].append([t - t0 for _, t in r['ev']])
if not by_seq:
    sys.exit('no runs recorded')
names, vals = max(by_seq.items(), key=lambda kv: len(kv[1]))
print(f'  {len(vals)} of {len(runs)} runs had this sequence; medians, ms from the fork')
prev = 0.0
for i, n in enumerate(names):
    m = st.median(v[i] for v in vals)
    print(f'  {m:8.3f}  (+{m - prev:6.3f})  {n}')
    prev = m
PY
}

phases bwrap bwrap "${bwrap_args[@]}" /bin/true
phases mcpcell "$build/mcpcell" --name bench-true -- /bin/true
phases mcpcell-nosandbox "$build/mcpcell" --no-sandbox --name bench-true -- /bin/true
