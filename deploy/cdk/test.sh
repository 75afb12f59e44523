#!/usr/bin/env bash
# Type-checks the CDK app and runs its assertion tests (node --test with aws-cdk-lib/assertions):
# the sources are transpiled first, then `tsc --noEmit` and the tests run side by side.
# Last line: "N passed, M failed" (the type-check counts as one test); exit 0 only if all pass.
set -uo pipefail
cd "$(dirname "$0")"
start=$SECONDS
if ! bash setup.sh --transpile-only; then
  echo "install or transpile failed"
  echo "0 passed, 1 failed"
  exit 1
fi
out=$(mktemp)
tsc_out=$(mktemp)
trap 'rm -f "$out" "$tsc_out"' EXIT
nice -n 19 node_modules/.bin/tsc -p tsconfig.json --noEmit > "$tsc_out" 2>&1 &
tsc_pid=$!
nice -n 19 node --test --test-reporter=tap dist/test/index.test.js > "$out" 2>&1
status=$?
wait "$tsc_pid"
tsc_status=$?

grep -E '^(not )?ok ' "$out" || true
if [[ $status -ne 0 ]]; then
  awk '/^not ok /{p=1} /^ok /{p=0} p' "$out" | head -200
fi
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out" | tail -1)
pass=${pass:-0}
fail=${fail:-0}
[[ $status -ne 0 && $fail -eq 0 ]] && fail=1
if [[ $tsc_status -eq 0 ]]; then
  echo "ok - type-check (tsc --noEmit)"
  pass=$((pass + 1))
else
  echo "not ok - type-check (tsc --noEmit)"
  cat "$tsc_out"
  fail=$((fail + 1))
fi
echo "took $((SECONDS - start)) s"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
