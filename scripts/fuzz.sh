#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) in build/fuzz and runs each one.
#   scripts/fuzz.sh [--seconds N] [--replay] [target...]
#     --seconds N  fuzz each target for N seconds (default 20) over its seed corpus
#                  (fuzz/corpus/<t>), its regressions (fuzz/regressions/<t>) and the inputs it
#                  found before (build/fuzz/corpus/<t>, where new ones go)
#     --replay     only run the seeds and regressions once (no fuzzing)
#     target...    some of: http_request http_response json_body tokens resp (default: all)
# TK_FUZZ_TIMEOUT: seconds one input may take (default 10; more for a run at low priority beside
# other work, where the clock runs while the fuzzer waits for a core).
# A crash or failed property leaves the input in build/fuzz/artifacts/<t>/; keep it as a
# regression under fuzz/regressions/<t>/ once fixed. Ends with "N passed, N failed" (one entry
# per target); exits non-zero when one failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=20
replay=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --replay) replay=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(http_request http_response json_body tokens resp)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

BUILD=build/fuzz
CXX_CLANG=${TK_FUZZ_CXX:-clang++}
command -v "$CXX_CLANG" >/dev/null || { echo "fuzz: $CXX_CLANG not found (scripts/deps.sh installs clang)" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
echo "==> fuzz: configure and build $BUILD"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="$CXX_CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTK_BUILD_FUZZ=ON -DTK_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0
for t in "${targets[@]}"; do
  bin=$BUILD/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz: no target $t" >&2; failed=$((failed + 1)); continue; }
  mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts/$t" "fuzz/regressions/$t"
  log=$BUILD/artifacts/$t/last.log
  common=(-artifact_prefix="$BUILD/artifacts/$t/" -rss_limit_mb=2048 -timeout="${TK_FUZZ_TIMEOUT:-10}" -print_final_stats=1)
  if [ $replay = 1 ]; then
    args=(-runs=0 "fuzz/corpus/$t" "fuzz/regressions/$t")
  else
    args=(-max_total_time="$seconds" "$BUILD/corpus/$t" "fuzz/corpus/$t" "fuzz/regressions/$t")
  fi
  # The CPU time the target used (user + system), for the record of long runs: at a low
  # priority beside other work it is far below the wall-clock time.
  rc=0
  { TIMEFORMAT='%U %S'; time "$bin" "${common[@]}" "${args[@]}" >"$log" 2>&1; } 2>"$log.cpu" || rc=$?
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$log.cpu" 2>/dev/null || true)
  if [ $rc = 0 ]; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    echo "fuzz $t: passed (${runs:-?} inputs, ${cpu:-?} s of CPU)"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED, log $log:"
    grep -E 'property failed|ERROR:|SUMMARY:|Test unit written|^    #[0-9]' "$log" | head -20 || true
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
