#!/usr/bin/env bash
# The service binary on the Patroni fixture's PostgreSQL (multi-host URL, replica reads) and the
# regular fixture's Redis and SMTP sink; race_pg_failover.py kills the primary mid-sale. The
# killed node is brought back afterwards (as a replica) for the tests that follow.
set -uo pipefail
bin=${1:?service binary}; envfile=${2:?servers env}; patroni_dir=${3:?patroni dir}
here=$(cd "$(dirname "$0")" && pwd); servers_sh="$here/../support/servers.sh"
set -a; . "$envfile"; . "$patroni_dir/env"; set +a
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); ops_port=$(free_port)
log=$(mktemp /tmp/tk-e2e-pgfo-XXXX.log)
export TICKETING_HTTP_PORT=$port TICKETING_HTTP_HOST=127.0.0.1 TICKETING_THREADS=2 \
  TICKETING_SECRET=e2e-secret-0123456789abcdef0123456789abcdef TICKETING_ADMIN_TOKEN=e2e-admin \
  TICKETING_ARGON2_OPSLIMIT=1 TICKETING_ARGON2_MEMLIMIT_KIB=8192 TICKETING_ARGON2_PER_ADDRESS=256 \
  TICKETING_ARGON2_QUEUE=256 TICKETING_OPS_PORT=$ops_port \
  TICKETING_RATE_PER_ADDRESS=0 TICKETING_SIGNUPS_PER_MINUTE=100000 \
  TICKETING_PAYMENT_TIMEOUT_MS=1000 TICKETING_ACCESS_LOG=0
"$bin" >>"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 150); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 $pid 2>/dev/null || { echo "service died"; cat "$log"; exit 1; }
  sleep 0.2
done
python3 "$here/race_pg_failover.py" "http://127.0.0.1:$port" e2e-admin "$TICKETING_PG_URL" \
  "$servers_sh" "$patroni_dir" 200 50
rc=$?
if [ $rc != 0 ]; then grep -v '"access"' "$log" | tail -40; fi
bash "$servers_sh" patroni-restore "$patroni_dir" || { echo "FAIL: patroni-restore"; rc=1; }
exit $rc
