#!/usr/bin/env bash
# Starts the built service against the CTest fixture's PostgreSQL + Redis on a free port, serving
# the built front-end (TICKETING_STATIC_DIR) from the same origin, runs one Playwright scenario
# (web/e2e/<name>.test.mjs, headless Debian chromium) against it, and always stops the service.
#   run.sh SERVICE_BIN SERVERS_ENV WEB_DIST NAME SCREENSHOT_DIR
set -uo pipefail
bin=${1:?service binary}; envfile=${2:?servers env file}; dist=${3:?built front-end}
name=${4:?scenario}; shots=${TK_SCREENSHOTS:-${5:?screenshot folder}}  # scripts/screenshots.sh sets it
here=$(cd "$(dirname "$0")" && pwd)
set -a; . "$envfile"; set +a
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/tk-web-e2e-XXXX.log)
export TICKETING_HTTP_PORT=$port TICKETING_HTTP_HOST=127.0.0.1 TICKETING_THREADS=2 \
  TICKETING_SECRET=e2e-secret-0123456789abcdef0123456789abcdef TICKETING_ADMIN_TOKEN=e2e-admin \
  TICKETING_ARGON2_OPSLIMIT=1 TICKETING_ARGON2_MEMLIMIT_KIB=8192 TICKETING_STATIC_DIR=$dist \
  TICKETING_ARGON2_PER_ADDRESS=256 TICKETING_ARGON2_QUEUE=256 \
  TICKETING_ACCESS_LOG=0 TICKETING_OPS_PORT=0 TICKETING_SIGNUPS_PER_MINUTE=100000 \
  TICKETING_RATE_PER_ADDRESS=0
"$bin" >>"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
ready=0
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
if [ $ready = 0 ]; then echo "service not ready"; cat "$log"; exit 1; fi
# The front-end is served from the same origin as the API.
curl -sf "http://127.0.0.1:$port/" | grep -q '<div id="live"' || { echo "index.html not served"; exit 1; }

mkdir -p "$shots"
export TK_BASE="http://127.0.0.1:$port" TK_ADMIN=e2e-admin TK_SHOTS=$shots TK_PG_URL=$TICKETING_PG_URL
node --test --test-reporter=spec "$here/$name.test.mjs"
rc=$?
[ $rc = 0 ] || tail -40 "$log"
exit $rc
