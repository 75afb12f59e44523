#!/usr/bin/env bash
# Pattern A from the built binary against the CTest fixtures' PostgreSQL, Redis and RabbitMQ: one
# worker, two API processes and HAProxy in front (as scripts/run-local.sh --pattern A lays them
# out), then tests/e2e/pattern_a.py. Every process is stopped on exit.
# Usage: run_pattern_a.sh BIN SERVERS_ENV RABBITMQ_ENV
set -uo pipefail
bin=${1:?service binary}; envfile=${2:?servers env}; rmqenv=${3:?rabbitmq env}
here=$(cd "$(dirname "$0")" && pwd)
command -v haproxy >/dev/null || { echo "haproxy missing (scripts/deps.sh installs it)"; exit 1; }
set -a; . "$envfile"; . "$rmqenv"; set +a
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d /tmp/tk-pattern-a-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
export TICKETING_HTTP_HOST=127.0.0.1 TICKETING_THREADS=2 \
  TICKETING_SECRET=e2e-secret-0123456789abcdef0123456789abcdef TICKETING_ADMIN_TOKEN=e2e-admin \
  TICKETING_ARGON2_OPSLIMIT=1 TICKETING_ARGON2_MEMLIMIT_KIB=8192 TICKETING_ARGON2_PER_ADDRESS=256 \
  TICKETING_ARGON2_QUEUE=256 TICKETING_RATE_PER_ADDRESS=0 TICKETING_SIGNUPS_PER_MINUTE=100000 \
  TICKETING_ACCESS_LOG=0 TICKETING_DRAIN_DELAY_MS=200
wait_ready() {  # url pid log
  for _ in $(seq 150); do
    curl -sf "$1" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "process died"; cat "$3"; exit 1; }
    sleep 0.2
  done
  echo "not ready: $1"; cat "$3"; exit 1
}
start() {  # name role port ops [VAR=VALUE...]
  local name=$1 role=$2 port=$3 ops=$4; shift 4
  env TICKETING_ROLE="$role" TICKETING_HTTP_PORT="$port" TICKETING_OPS_PORT="$ops" "$@" \
    "$bin" >>"$dir/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$dir/$name.pid"
  wait_ready "http://127.0.0.1:$ops/readyz" $! "$dir/$name.log"
}
worker_port=$(free_port) worker_ops=$(free_port)
start worker worker "$worker_port" "$worker_ops"
api_ports=() api_ops=()
for i in 1 2; do
  p=$(free_port) o=$(free_port)
  start "api-$i" api "$p" "$o" TICKETING_TRUSTED_PROXIES=127.0.0.1 TICKETING_PROXY_PROTOCOL=1
  api_ports+=("$p") api_ops+=("$o")
done
front=$(free_port)
cat >"$dir/front.cfg" <<CFG
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 2
    option redispatch
    retry-on conn-failure
    http-reuse safe
frontend public
    bind 127.0.0.1:$front
    default_backend api
backend api
    balance roundrobin
    option httpchk GET /readyz
    server api-1 127.0.0.1:${api_ports[0]} send-proxy-v2 check port ${api_ops[0]} inter 300ms fall 1 rise 2
    server api-2 127.0.0.1:${api_ports[1]} send-proxy-v2 check port ${api_ops[1]} inter 300ms fall 1 rise 2
CFG
haproxy -W -db -f "$dir/front.cfg" >>"$dir/front.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$front/readyz" $! "$dir/front.log"
python3 "$here/pattern_a.py" "http://127.0.0.1:$front" e2e-admin "$TICKETING_PG_URL" \
  "http://127.0.0.1:$worker_ops" "$worker_port" "$(cat "$dir/api-1.pid")" "http://127.0.0.1:${api_ops[0]}"
rc=$?
if [ $rc != 0 ]; then for f in "$dir"/*.log; do echo "== $f"; tail -n 30 "$f"; done; fi
exit $rc
