#!/usr/bin/env bash
# The high-availability front from the built binary, laid out as scripts/run-local.sh --ha does
# (scripts/ha.sh): the nginx + ModSecurity edge -> HAProxy (TLS from a local CA) -> two gateways
# -> two API processes, a worker and RabbitMQ, on the CTest fixtures' PostgreSQL and Redis. Runs
# tests/e2e/ha_edge.py (TLS, HTTP/2, WAF, catalogue cache, client address, drain), ha_crowd.py
# (one gateway killed with SIGKILL mid-crowd) and the contract's flow.sh through the edge.
# Every process is stopped on exit.
# Usage: run_ha.sh BIN SERVERS_ENV RABBITMQ_ENV
set -uo pipefail
bin=${1:?service binary}; envfile=${2:?servers env}; rmqenv=${3:?rabbitmq env}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
set -a; . "$envfile"; . "$rmqenv"; set +a
# shellcheck source=scripts/ha.sh
. "$root/scripts/ha.sh"
dir=$(mktemp -d /tmp/tk-ha-XXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  ha_stop_pid "$dir/edge/nginx.master" QUIT
  ha_stop_pid "$dir/haproxy.pid"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ "${TK_KEEP_DIR:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
# shellcheck source=tests/e2e/roles.sh
. "$here/roles.sh"
e2e_settings
export TICKETING_DRAIN_DELAY_MS=1500 \
  TICKETING_RATE_PER_ADDRESS=0 TICKETING_SIGNUPS_PER_MINUTE=100000
start worker worker "$(free_port)" "$(free_port)"
upstreams=""
for i in 1 2; do
  p=$(free_port)
  start "api-$i" api "$p" "$(free_port)" TICKETING_TRUSTED_PROXIES=127.0.0.1
  upstreams+="${upstreams:+,}127.0.0.1:$p"
done
gw_ports=() gw_ops=()
for i in 1 2; do gw_ports+=("$(free_port)") gw_ops+=("$(free_port)"); done
# gateway I [VAR=VALUE...]: gateway I on its ports, behind the balancer (PROXY protocol v2).
gateway() {
  local i=$1; shift
  start "gateway-$i" gateway "${gw_ports[$((i - 1))]}" "${gw_ops[$((i - 1))]}" \
    TICKETING_GATEWAY_UPSTREAMS="$upstreams" TICKETING_GATEWAY_HEALTH_INTERVAL_MS=200 \
    TICKETING_TRUSTED_PROXIES=127.0.0.1 TICKETING_PROXY_PROTOCOL=1 "$@"
}
# Loose limits everywhere for the crowd (hundreds of buyers from one loopback address); the flow's
# gateways get its limits later.
gateway 1
gateway 2

ha_tls "$dir/tls" || { echo "could not make the local CA"; exit 1; }
lb=$(free_port) edge=$(free_port)
ha_haproxy_cfg "$dir/haproxy.cfg" 127.0.0.1 "$lb" "$dir/tls" "$dir" \
  "gateway-1=127.0.0.1:${gw_ports[0]}/${gw_ops[0]}" "gateway-2=127.0.0.1:${gw_ports[1]}/${gw_ops[1]}" ||
  { echo "haproxy rejected its configuration"; cat "$dir/haproxy.cfg"; exit 1; }
ha_haproxy_start "$dir/haproxy.cfg" "$dir"
ha_nginx_cfg "$dir/edge" 127.0.0.1 "$edge" "$dir/tls" 127.0.0.1 "$lb" ||
  { echo "nginx rejected its configuration"; cat "$dir/edge/error.log"; exit 1; }
ha_nginx_start "$dir/edge"
export SSL_CERT_FILE=$dir/tls/ca.crt CURL_CA_BUNDLE=$dir/tls/ca.crt
# By address: the front listens on 127.0.0.1, which the certificate names besides localhost (a
# name that may resolve to ::1 first).
EDGE=https://127.0.0.1:$edge LB=https://127.0.0.1:$lb
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$EDGE/readyz")" = 200 ] && break
  sleep 0.2
done

# both_up: until the balancer has both gateways in rotation again.
both_up() {
  local up _
  for _ in $(seq 50); do
    up=$(ha_admin "$dir/haproxy.sock" show servers state processes | awk '$4 ~ /gateway/ && $6 == 2' | wc -l)
    [ "$up" = 2 ] && return 0
    sleep 0.2
  done
  echo "the balancer did not take both gateways back"; return 1
}
rc=0
python3 "$here/ha_edge.py" "$EDGE" "$LB" e2e-admin "$dir" || rc=1
gateway 2
both_up || rc=1
python3 "$here/ha_crowd.py" "$EDGE" e2e-admin "$TICKETING_PG_URL" "$(cat "$dir/gateway-1.pid")" 120 40 || rc=1
# The contract through the whole front, with the limits flow.sh expects (shared by the gateways
# through Redis): the killed gateway comes back with them, the other one is replaced.
for i in 1 2; do kill "$(cat "$dir/gateway-$i.pid")" 2>/dev/null; wait "$(cat "$dir/gateway-$i.pid")" 2>/dev/null; done
gateway 1 TICKETING_RATE_PER_ADDRESS=20 TICKETING_SIGNUPS_PER_MINUTE=10
gateway 2 TICKETING_RATE_PER_ADDRESS=20 TICKETING_SIGNUPS_PER_MINUTE=10
both_up || rc=1
bash "$here/flow.sh" "$EDGE" e2e-admin "http://127.0.0.1:${gw_ops[0]}" || rc=1
if [ $rc != 0 ]; then
  for f in "$dir"/*.log "$dir"/edge/error.log; do echo "== $f"; tail -n 30 "$f"; done
fi
exit $rc
