#!/usr/bin/env bash
# Installs the exact dependencies of package-lock.json when node_modules does not match it, then
# compiles the TypeScript into dist/: type-checked by default, `--transpile-only` to skip the
# check (test.sh runs it beside the tests). Offline once node_modules is there.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  nice -n 19 npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi
rm -rf dist/bin dist/lib dist/test
if [[ ${1:-} == --transpile-only ]]; then
  nice -n 19 node transpile.js
else
  nice -n 19 node_modules/.bin/tsc -p tsconfig.json
fi
