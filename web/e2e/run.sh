#!/usr/bin/env bash
# Starts the built service against the CTest fixture's PostgreSQL + Redis on a free port, serving
# the built front-end (TICKETING_STATIC_DIR) from the same origin, runs one Playwright scenario
# (web/e2e/<name>.test.mjs, headless Debian chromium) against it, and always stops the service.
#   run.sh SERVICE_BIN SERVERS_ENV WEB_DIST NAME SCREENSHOT_DIR [ha]
# With `ha` the browser goes through the HA front of scripts/ha.sh (the nginx + ModSecurity edge
# and HAProxy, TLS from a CA made for the run) instead of talking to the service directly.
set -uo pipefail
bin=${1:?service binary}; envfile=${2:?servers env file}; dist=${3:?built front-end}
name=${4:?scenario}; shots=${TK_SCREENSHOTS:-${5:?screenshot folder}}  # scripts/screenshots.sh sets it
front=${6:-direct}
here=$(cd "$(dirname "$0")" && pwd)
set -a; . "$envfile"; set +a
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
log=$(mktemp /tmp/tk-web-e2e-XXXX.log)
export TICKETING_HTTP_PORT=$port TICKETING_HTTP_HOST=127.0.0.1 TICKETING_THREADS=2 \
  TICKETING_SECRET=e2e-secret-0123456789abcdef0123456789abcdef TICKETING_ADMIN_TOKEN=e2e-admin \
  TICKETING_ARGON2_OPSLIMIT=1 TICKETING_ARGON2_MEMLIMIT_KIB=8192 TICKETING_STATIC_DIR=$dist \
  TICKETING_ARGON2_PER_ADDRESS=256 TICKETING_ARGON2_QUEUE=256 \
  TICKETING_ACCESS_LOG=0 TICKETING_OPS_PORT=0 TICKETING_SIGNUPS_PER_MINUTE=100000 \
  TICKETING_RATE_PER_ADDRESS=0
if [ "$front" = ha ]; then
  # Behind the balancer: the PROXY protocol from it, /readyz on an ops port for its checks.
  ops=$(free_port)
  export TICKETING_PROXY_PROTOCOL=1 TICKETING_TRUSTED_PROXIES=127.0.0.1 TICKETING_OPS_PORT=$ops
  ready_url=http://127.0.0.1:$ops/readyz
else
  ready_url=http://127.0.0.1:$port/readyz
fi
"$bin" >>"$log" 2>&1 &
pid=$!
ha=$(mktemp -d /tmp/tk-web-ha-XXXX)
stop_all() {
  if [ "$front" = ha ]; then
    . "$here/../../scripts/ha.sh"
    ha_stop_pid "$ha/edge/nginx.master" QUIT
    ha_stop_pid "$ha/haproxy.pid"
  fi
  kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$log" "$ha"
}
trap stop_all EXIT
ready=0
for _ in $(seq 100); do
  if curl -sf "$ready_url" >/dev/null; then ready=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
if [ $ready = 0 ]; then echo "service not ready"; cat "$log"; exit 1; fi
base=http://127.0.0.1:$port
if [ "$front" = ha ]; then
  . "$here/../../scripts/ha.sh"
  chmod 755 "$ha"
  lb=$(free_port) edge=$(free_port)
  ha_tls "$ha/tls" || { echo "could not make the CA"; exit 1; }
  ha_haproxy_cfg "$ha/haproxy.cfg" 127.0.0.1 "$lb" "$ha/tls" "$ha" "service=127.0.0.1:$port/$ops" ||
    { echo "haproxy rejected its configuration"; exit 1; }
  ha_haproxy_start "$ha/haproxy.cfg" "$ha"
  ha_nginx_cfg "$ha/edge" 127.0.0.1 "$edge" "$ha/tls" 127.0.0.1 "$lb" ||
    { echo "nginx rejected its configuration"; exit 1; }
  ha_nginx_start "$ha/edge"
  # By address, not by name: where /etc/hosts names ::1 localhost too (Debian's default), Node's
  # fetch tries only the first address, and the front listens on 127.0.0.1 (the certificate
  # names both).
  base=https://127.0.0.1:$edge
  export CURL_CA_BUNDLE=$ha/tls/ca.crt NODE_EXTRA_CA_CERTS=$ha/tls/ca.crt
  TK_SPKI=$(openssl x509 -in "$ha/tls/server.crt" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
  export TK_SPKI
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ] && break
    sleep 0.2
  done
fi
# The front-end is served from the same origin as the API.
curl -sf "$base/" | grep -q '<div id="live"' || { echo "index.html not served"; exit 1; }

mkdir -p "$shots"
export TK_BASE=$base TK_ADMIN=e2e-admin TK_SHOTS=$shots TK_PG_URL=$TICKETING_PG_URL
node --test --test-reporter=spec "$here/$name.test.mjs"
rc=$?
[ $rc = 0 ] || { tail -40 "$log"; [ "$front" != ha ] || tail -20 "$ha/edge/error.log" "$ha/haproxy.log"; }
exit $rc
