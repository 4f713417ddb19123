#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (AddressSanitizer + UndefinedBehaviorSanitizer) in a
# build directory of their own and runs each for a fixed time on its committed seed corpus.
# Fails on any crash, sanitizer report, leak, timeout or invariant violation; fails too when clang
# or libFuzzer is missing (scripts/setup.sh installs them): a fuzz run that cannot run never passes.
#
#   tests/fuzz/run.sh [options] [TARGET...]      default: every target, 20 s each
#     --build-dir DIR   where the clang build lives (default: build-fuzz/ in the checkout)
#     --time SECONDS    -max_total_time per target
#     --build-only      configure and build, run nothing
#     --no-build        run what is built
#     --jobs N          parallel fuzzing jobs per target (longer local campaigns; -fork=N)
#     --corpus DIR      keep the corpus a run grows here (default: a temporary copy of the seeds)
#   Anything after `--` goes to libFuzzer as it is (e.g. -- -dict=... -only_ascii=1).
#
# Crashing inputs are written to $BUILD_DIR/artifacts/TARGET/; reproduce one with
#   $BUILD_DIR/fuzz_TARGET FILE
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ_DIR="$ROOT/tests/fuzz"
BUILD_DIR="$ROOT/build-fuzz"
TIME=20
BUILD=1
RUN=1
JOBS=1
CORPUS_OUT=""
TARGETS=()
EXTRA=()
ALL=()
for f in "$FUZZ_DIR"/fuzz_*.cc; do
  f="${f##*/fuzz_}"
  ALL+=("${f%.cc}")
done

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --time) TIME="$2"; shift 2 ;;
    --build-only) RUN=0; shift ;;
    --no-build) BUILD=0; shift ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --corpus) CORPUS_OUT="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=("${ALL[@]}")

# Largest input per target: a few typical lines' worth, so the time goes into structure rather
# than into megabytes (the framer repeats its input to reach big lines, see fuzz_framing.cc).
max_len() {
  case "$1" in
    framing) echo 4096 ;;
    scan_filter) echo 8192 ;;
    *) echo 16384 ;;
  esac
}

if [ "$BUILD" -eq 1 ]; then
  CXX="$(command -v clang++-14 || command -v clang++ || true)"
  CC="$(command -v clang-14 || command -v clang || true)"
  if [ -z "$CXX" ] || [ -z "$CC" ]; then
    echo "run.sh: FAIL: clang is not installed (sudo apt-get install clang-14 libclang-rt-14-dev, or scripts/setup.sh)" >&2
    exit 1
  fi
  if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    "$CXX" -x c++ -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null; then
    echo "run.sh: FAIL: $CXX cannot link libFuzzer with ASan/UBSan (sudo apt-get install libclang-rt-14-dev)" >&2
    exit 1
  fi
  mkdir -p "$BUILD_DIR"
  echo "run.sh: building the fuzzers with $("$CXX" --version | head -n1) in $BUILD_DIR" >&2
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DMCPCELL_FUZZ=ON -DBUILD_TESTING=OFF >"$BUILD_DIR/configure.log" 2>&1 ||
    { cat "$BUILD_DIR/configure.log" >&2; exit 1; }
  cmake --build "$BUILD_DIR" --target fuzzers -j "$(nproc 2>/dev/null || echo 2)"
fi
[ "$RUN" -eq 1 ] || exit 0

# halt_on_error and abort_on_error make every sanitizer report a failure libFuzzer records;
# detect_leaks is on by default with ASan and stays on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"

failed=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "run.sh: FAIL: $bin is not built" >&2
    failed+=("$t")
    continue
  fi
  seeds="$FUZZ_DIR/corpus/$t"
  corpus="$CORPUS_OUT"
  if [ -z "$corpus" ]; then
    corpus="$(mktemp -d)"
    trap 'rm -rf "$corpus"' EXIT
  else
    corpus="$corpus/$t"
  fi
  mkdir -p "$corpus" "$BUILD_DIR/artifacts/$t"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  args=(-max_total_time="$TIME" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$BUILD_DIR/artifacts/$t/")
  [ -f "$FUZZ_DIR/dict/$t.dict" ] && args+=(-dict="$FUZZ_DIR/dict/$t.dict")
  [ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS")
  log="$BUILD_DIR/artifacts/$t/last-run.log"
  echo "run.sh: fuzz_$t for ${TIME}s (max_len $(max_len "$t"), seeds: $(ls "$seeds" 2>/dev/null | wc -l))" >&2
  if "$bin" "${args[@]}" "${EXTRA[@]}" "$corpus" >"$log" 2>&1; then
    # libFuzzer's closing statistics: executions, speed, coverage reached.
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$log" |
      sed "s/^/    $t: /" >&2 || true
  else
    echo "run.sh: FAIL: fuzz_$t (log: $log)" >&2
    # From the first report on: what broke, the stack, and the input libFuzzer saved.
    first="$(grep -n -m1 -E 'INVARIANT VIOLATED|ERROR: |runtime error|SUMMARY' "$log" | cut -d: -f1)"
    sed -n "${first:-1},\$p" "$log" | grep -v -E '^#[0-9]+ +(NEW|REDUCE|pulse)' | head -n 60 >&2
    ls "$BUILD_DIR/artifacts/$t/" | grep -v last-run.log | sed "s|^|    artifact: $BUILD_DIR/artifacts/$t/|" >&2 || true
    failed+=("$t")
  fi
  if [ -z "$CORPUS_OUT" ]; then rm -rf "$corpus"; fi
done

passed=$((${#TARGETS[@]} - ${#failed[@]}))
echo "fuzz: ${passed} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
