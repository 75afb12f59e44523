#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests: synthesises both layouts with synth.sh, then runs
# the node:test suites (schemas, strict unknown-field check, properties). Exit status non-zero on
# any failure; the last line reads "N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
out=$(mktemp -d "${TMPDIR:-/tmp}/k8s-test.XXXXXX")
trap 'rm -rf "$out"' EXIT

if ! bash ./synth.sh "$out/synth" >"$out/synth.log" 2>&1; then
  cat "$out/synth.log"
  echo "synth.sh failed"
  echo "0 passed, 1 failed"
  exit 1
fi

K8S_SYNTH_OUT="$out/synth" nice -n 19 node --test --test-reporter=tap dist/test/*.test.js | tee "$out/tap.log"
status=${PIPESTATUS[0]}
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out/tap.log" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out/tap.log" | tail -1)
pass=${pass:-0}
fail=${fail:-0}
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "$pass passed, $fail failed"
[ "$status" -eq 0 ] && [ "$fail" -eq 0 ]
