#!/usr/bin/env bash
# Pattern A from the built binary against the CTest fixtures' PostgreSQL, Redis and RabbitMQ: one
# worker, two API processes and gateways in front (as scripts/run-local.sh --pattern A lays them
# out), then tests/e2e/pattern_a.py (roles, a purchase, an API process killed mid-crowd),
# gateway_limits.py (two gateways share their limits) and the contract's flow.sh through a
# gateway. Every process is stopped on exit. The crowd's gateway and the API processes log their
# requests: pattern_a.py follows a payment's trace through every process's log.
# TK_GATEWAY2_REDIS_DB=1 (checking the test itself): gives the second gateway a Redis database of
# its own, so its buckets are not shared and gateway_limits.py must fail.
# Usage: run_pattern_a.sh BIN SERVERS_ENV RABBITMQ_ENV
set -uo pipefail
bin=${1:?service binary}; envfile=${2:?servers env}; rmqenv=${3:?rabbitmq env}
here=$(cd "$(dirname "$0")" && pwd)
set -a; . "$envfile"; . "$rmqenv"; set +a
dir=$(mktemp -d /tmp/tk-pattern-a-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=tests/e2e/roles.sh
. "$here/roles.sh"
e2e_settings
export TICKETING_RATE_PER_ADDRESS=0 TICKETING_SIGNUPS_PER_MINUTE=100000 TICKETING_DRAIN_DELAY_MS=200
worker_port=$(free_port) worker_ops=$(free_port)
start worker worker "$worker_port" "$worker_ops"
api_ports=() api_ops=()
# The API processes trust the gateways on loopback: X-Forwarded-For names the client. Their own
# in-process limits stay loose (as the flow's crowd needs); the gateways apply the shared ones.
start_api() {  # index port ops (access log on: pattern_a.py follows a trace through the logs)
  start "api-$1" api "$2" "$3" TICKETING_TRUSTED_PROXIES=127.0.0.1 TICKETING_ACCESS_LOG=1
}
for i in 1 2; do
  p=$(free_port) o=$(free_port)
  start_api "$i" "$p" "$o"
  api_ports+=("$p") api_ops+=("$o")
done
upstreams="127.0.0.1:${api_ports[0]},127.0.0.1:${api_ports[1]}"
# gateway NAME PORT OPS [VAR=VALUE...]: one gateway in front of both API processes.
gateway() {
  local name=$1 port=$2 ops=$3; shift 3
  start "$name" gateway "$port" "$ops" TICKETING_GATEWAY_UPSTREAMS="$upstreams" \
    TICKETING_GATEWAY_HEALTH_INTERVAL_MS=200 "$@"
}
# Pattern A's crowd: a gateway with the loose limits of the other e2e crowds.
front=$(free_port) front_ops=$(free_port)
gateway gateway-crowd "$front" "$front_ops" TICKETING_ACCESS_LOG=1
python3 "$here/pattern_a.py" "http://127.0.0.1:$front" e2e-admin "$TICKETING_PG_URL" \
  "http://127.0.0.1:$worker_ops" "$worker_port" "$(cat "$dir/api-1.pid")" "http://127.0.0.1:${api_ops[0]}" \
  "http://127.0.0.1:$front_ops" "$dir"
rc=$?
# The killed API process comes back on its port; the gateways' checks take it in again.
start_api 1 "${api_ports[0]}" "${api_ops[0]}"
# Two gateways with the flow's limits (flow.sh expects TICKETING_RATE_PER_ADDRESS=20 and the
# default sign-up and admin-failure limits), sharing their buckets through Redis.
g1=$(free_port) g1_ops=$(free_port) g2=$(free_port) g2_ops=$(free_port)
gateway gateway-1 "$g1" "$g1_ops" TICKETING_RATE_PER_ADDRESS=20 TICKETING_SIGNUPS_PER_MINUTE=10
gateway gateway-2 "$g2" "$g2_ops" TICKETING_RATE_PER_ADDRESS=20 TICKETING_SIGNUPS_PER_MINUTE=10 \
  ${TK_GATEWAY2_REDIS_DB:+TICKETING_REDIS_URL=$TICKETING_REDIS_URL/$TK_GATEWAY2_REDIS_DB}
python3 "$here/gateway_limits.py" "http://127.0.0.1:$g1" "http://127.0.0.1:$g2" 20 40 || rc=1
# The contract through a gateway and two API processes: its per-address and admin lock-out checks
# hold although each API process sees only part of the requests.
bash "$here/flow.sh" "http://127.0.0.1:$g1" e2e-admin "http://127.0.0.1:$g1_ops" || rc=1
if [ $rc != 0 ]; then for f in "$dir"/*.log; do echo "== $f"; tail -n 30 "$f"; done; fi
exit $rc
