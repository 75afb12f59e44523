#!/usr/bin/env bash
# Refreshes the screenshots in docs/screenshots/ (shown in the README): runs the browser
# end-to-end scenarios (web_e2e_*) with their screenshots directed there instead of the build
# folder. Builds build/test like scripts/test.sh; extra arguments go to ctest.
#   bash scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${TK_SCREENSHOT_BUILD:-build/test}
SERVERS=$PWD/$BUILD/test-servers
cleanup() { if [ -e "$SERVERS" ]; then bash tests/support/servers.sh stop "$SERVERS" >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT

bash scripts/deps.sh
if [ "$BUILD" = build/test ]; then bash scripts/build.sh test; else cmake --build "$BUILD" --target ticketing; fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
mkdir -p docs/screenshots
TK_SCREENSHOTS=$PWD/docs/screenshots ctest --test-dir "$BUILD" --output-on-failure -R '^web_e2e_' "$@"
ls -l docs/screenshots
