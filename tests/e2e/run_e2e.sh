#!/usr/bin/env bash
# Starts the built service binary against the CTest fixture's PostgreSQL + Redis on a free port,
# runs the black-box flow test (flow.sh) against it, and always stops the service.
set -uo pipefail
bin=${1:?service binary}; envfile=${2:?servers env file}; mode=${3:-flow}; here=$(cd "$(dirname "$0")" && pwd)
set -a; . "$envfile"; set +a
if [ "$mode" = race-failover ]; then
  # PostgreSQL from the servers fixture, Redis behind the Sentinel fixture (its env file, 4th
  # argument, sets TICKETING_REDIS_URL to the redis-sentinel:// URL). Earlier tests may have
  # killed a node: start from a primary with a linked replica.
  sentinel_env=${4:?sentinel env file}
  set -a; . "$sentinel_env"; set +a
  bash "$here/../support/servers.sh" sentinel-heal "$(dirname "$sentinel_env")" || exit 1
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); ops_port=$(free_port)
log=$(mktemp /tmp/tk-e2e-XXXX.log)
# Every simulated buyer shares the loopback address and logs in at once (race.py: 64 at a time):
# the per-address bound is raised above that, and with hashes this cheap (a few ms) a queue of 256
# still waits less than the second the default queue length is sized for.
export TICKETING_HTTP_PORT=$port TICKETING_HTTP_HOST=127.0.0.1 TICKETING_THREADS=2 \
  TICKETING_SECRET=e2e-secret-0123456789abcdef0123456789abcdef TICKETING_ADMIN_TOKEN=e2e-admin \
  TICKETING_ARGON2_OPSLIMIT=1 TICKETING_ARGON2_MEMLIMIT_KIB=8192 TICKETING_ARGON2_PER_ADDRESS=256 \
  TICKETING_ARGON2_QUEUE=256 \
  TICKETING_OPS_PORT=$ops_port
if [ "$mode" = flow ]; then
  # The flow checks the per-address limits themselves: the sign-up default, a small public rate.
  export TICKETING_RATE_PER_ADDRESS=20
else
  # Hundreds of buyers from one loopback address.
  export TICKETING_RATE_PER_ADDRESS=0 TICKETING_SIGNUPS_PER_MINUTE=100000
fi
start() {
  "$bin" >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
    kill -0 $pid 2>/dev/null || { echo "service died"; cat "$log"; exit 1; }
    sleep 0.2
  done
  echo "service not ready"; cat "$log"; exit 1
}
if [ "$mode" = flash ]; then
  # Short holds in the flash crowd must still outlive the payment timeout plus its margin.
  export TICKETING_PAYMENT_TIMEOUT_MS=1000 TICKETING_ACCESS_LOG=0
fi
if [ "$mode" = drain ]; then
  # A payment that outlasts the drain delay is in flight when SIGTERM arrives.
  export TICKETING_PAYMENT_LATENCY_MS=2500 TICKETING_DRAIN_DELAY_MS=700
fi
if [ "$mode" = mail ]; then
  # mail.py runs (kills, restarts) the service itself; short leases bring a killed process's
  # claimed outbox rows back within seconds. The lease outlasts the SMTP timeout (a loaded test
  # machine answers slowly) so one dispatcher's claim is not taken over while it sends.
  export TICKETING_OUTBOX_LEASE_MS=6000 TICKETING_SMTP_TIMEOUT_MS=5000 TICKETING_OUTBOX_RETRY_BASE_MS=200
  python3 "$here/mail.py" "$bin" "$port" "$ops_port" e2e-admin "$TICKETING_PG_URL" "$TK_MAIL_DIR" "$log"
  rc=$?
  [ $rc = 0 ] || tail -50 "$log"
  rm -f "$log"
  exit $rc
fi
pid=
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log" "$log.state"' EXIT
if [ "$mode" = crash ]; then
  # Test builds only: the process dies between the provider's charge and the commit.
  export TICKETING_PAYMENT_TIMEOUT_MS=1000
  TICKETING_FAULT=crash_after_charge start
  python3 "$here/crash.py" phase1 "http://127.0.0.1:$port" e2e-admin "$TICKETING_PG_URL" "$log.state" || exit 1
  wait $pid 2>/dev/null
fi
start
case $mode in
  flow) bash "$here/flow.sh" "http://127.0.0.1:$port" e2e-admin "http://127.0.0.1:$ops_port" ;;
  race) python3 "$here/race.py" "http://127.0.0.1:$port" e2e-admin "$TICKETING_PG_URL" "$TK_REDIS_PORT" 200 50 ;;
  crash) python3 "$here/crash.py" phase2 "http://127.0.0.1:$port" e2e-admin "$TICKETING_PG_URL" "$log.state" ;;
  flash) python3 "$here/flash.py" "http://127.0.0.1:$port" e2e-admin "${TK_LOADGEN:?}" "${TK_SEED:?}" ;;
  race-flush) python3 "$here/race.py" "http://127.0.0.1:$port" e2e-admin "$TICKETING_PG_URL" "$TK_REDIS_PORT" 200 50 flush ;;
  race-failover) python3 "$here/race.py" "http://127.0.0.1:$port" e2e-admin "$TICKETING_PG_URL" - 200 50 failover "$(dirname "$sentinel_env")" ;;
  drain)
    python3 "$here/drain.py" "http://127.0.0.1:$port" e2e-admin "$TICKETING_PG_URL" $pid
    rc=$?
    # drain.py sent SIGTERM: the process must exit by itself, with status 0.
    # (drain.py saw it exit, so this does not block; if it did not, the trap kills it)
    if [ $rc = 0 ]; then wait $pid; code=$?; pid=; else code=-; fi
    if [ "$code" != 0 ]; then echo "FAIL: exit status $code after SIGTERM"; rc=1; fi
    [ $rc = 0 ] || tail -50 "$log"
    exit $rc ;;
esac
rc=$?
# Graceful drain on SIGTERM: the process must exit by itself, promptly.
kill -TERM $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done
if kill -0 $pid 2>/dev/null; then echo "FAIL: service did not stop on SIGTERM"; rc=1; fi
[ $rc = 0 ] || tail -50 "$log"
exit $rc
