#!/usr/bin/env bash
# Runs the whole test suite: installs packages, builds build/test (Debug -O1, ASan+UBSan, test
# hooks), runs CTest, then the fuzz targets for 15 s each (scripts/fuzz.sh, clang, build/fuzz).
# The suite starts its own PostgreSQL + Redis on free ports (CTest fixtures, tests/support/servers.sh)
# and stops them afterwards; a trap stops them again on any exit, also on failure or Ctrl-C.
# Extra arguments go to ctest, e.g.: bash scripts/test.sh -R unit
# Ends with "N passed, N failed" (each fuzz target counts as one); exits non-zero when one failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=build/test
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  local f cmd d   # each CTest fixture's folder and the servers.sh command that stops it
  for f in stop:test-servers stop:test-steady sentinel-stop:test-sentinel \
    rabbitmq-stop:test-rabbitmq patroni-stop:test-patroni; do
    cmd=${f%%:*} d=$PWD/$BUILD/${f#*:}
    if [ -e "$d" ]; then bash tests/support/servers.sh "$cmd" "$d" >/dev/null 2>&1 || true; fi
  done
  if [ -n "${ctest_log:-}" ]; then rm -f "$ctest_log"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/deps.sh
bash scripts/build.sh test

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ctest_log=$(mktemp)
status=0
ctest --test-dir "$BUILD" --output-on-failure --no-tests=error -j2 --timeout 600 "$@" 2>&1 |
  tee "$ctest_log" || status=$?

# ctest's summary: "NN% tests passed, F tests failed out of T" (or "... 0 tests failed out of T").
summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$ctest_log" | tail -1 || true)
if [ -n "$summary" ]; then
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
  total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$summary")
  passed=$((total - failed))
else
  passed=0 failed=0
  [ $status -ne 0 ] || status=1   # no summary: ctest could not run the suite
fi
# The fuzz targets (fuzz/README.md): one entry per target in the count. Skipped when ctest was
# given a filter, so `test.sh -R unit` stays a quick run.
if [ $# -eq 0 ]; then
  fuzz_log=$(mktemp)
  fuzz_status=0
  bash scripts/fuzz.sh --seconds 15 2>&1 | tee "$fuzz_log" || fuzz_status=$?
  fuzz_summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$fuzz_log" | tail -1 || true)
  rm -f "$fuzz_log"
  if [ -n "$fuzz_summary" ]; then
    passed=$((passed + $(cut -d' ' -f1 <<<"$fuzz_summary")))
    failed=$((failed + $(cut -d' ' -f3 <<<"$fuzz_summary")))
  else
    failed=$((failed + 1))  # the fuzz build itself failed
  fi
  if [ $fuzz_status -ne 0 ] && [ $status -eq 0 ]; then status=1; fi
fi
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] && [ $status -eq 0 ]; then status=1; fi
exit $status
