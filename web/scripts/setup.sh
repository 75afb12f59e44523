#!/usr/bin/env bash
# Installs the front-end's npm packages exactly as package-lock.json says (npm ci), only when
# node_modules does not match the lock file already, then type-checks and builds into OUT_DIR
# (default web/dist). Used by run-local.sh and by the test suite (which builds into its build
# folder). Works with Debian 12's Node.js 18 + npm 9.
#   web/scripts/setup.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-dist}

command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "web: node and npm are needed (bash scripts/deps.sh installs them)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then echo "web: Node.js >= 18 needed, found $(node --version)" >&2; exit 1; fi

# One setup at a time (ctest and run-local.sh may overlap).
exec 9>.setup.lock
flock 9

want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.tk-lock.sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "web: node_modules up to date"
else
  echo "web: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
npx --no-install tsc --noEmit
TK_WEB_OUT="$out" npx --no-install vite build --logLevel warn
echo "web: built into $out"
