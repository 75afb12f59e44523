#!/usr/bin/env bash
# Commit-to-e-mail latency under a burst of paid orders: for each order, the time from its payment
# commit in PostgreSQL (orders.paid_at) to the arrival of its receipt in a real SMTP sink
# (tests/support/smtp_sink.py names each accepted message <n>-<time_ns>.eml), on the same clock.
#
#   bash bench/mail.sh [--pattern A|B] [--orders N] [--runs R] [--timeout S] [--build-dir DIR]
#
# --pattern A (default): one API process and one worker; the API commits the order and its outbox
#   row, the worker relays the row to RabbitMQ, consumes it and sends the receipt. --pattern B: one
#   process (role all, no broker) does both through its in-process outbox dispatcher.
# Each run: a new performance (one seat per order) on a venue of N seats, N buyers (bench/seed),
# then the burst: `loadgen --scenario order --mode closed --concurrency 16 --duration 0` (holds
# taken first, unmeasured; then each buyer's order + payment, as fast as the service accepts
# them); then up to --timeout (300) s for the N receipts. Prints p50/p95/p99/max latency, the
# burst (first to last commit) and the time from the first commit to the last e-mail per run,
# then the medians. Fails unless every paid order has exactly one receipt, and unless all N paid.
# paid_at is now() of the payment's transaction, so the figure includes the end of that
# transaction (well under a millisecond of its own statements).
# Defaults of the product except, to run at all: the secrets and ports, TICKETING_PG_URL /
# REDIS_URL / SMTP_URL / AMQP_URL of the servers started here, and TICKETING_RATE_PER_ADDRESS=0
# (every simulated buyer shares the loopback address). Servers on core 0, clients on core 1
# (bench/run.sh's conventions); everything in a temp folder, stopped on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

PATTERN=A RUNS=3 N=1000 TIMEOUT=300 CONC=16 BUILD_DIR=$ROOT/build/release
while [ $# -gt 0 ]; do
  case $1 in
    --pattern) PATTERN=${2:?}; shift ;;
    --orders|--messages) N=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --timeout) TIMEOUT=${2:?}; shift ;;
    --build-dir) BUILD_DIR=${2:?}; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
case $PATTERN in A|a) PATTERN=A ;; B|b) PATTERN=B ;; *) die "--pattern A or B" ;; esac
BIN=$BUILD_DIR/src/main/ticketing SEED=$BUILD_DIR/bench/seed/seed LOADGEN=$BUILD_DIR/bench/loadgen/loadgen
for b in "$BIN" "$SEED" "$LOADGEN"; do [ -x "$b" ] || die "$b missing (cmake --build $BUILD_DIR)"; done
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (servers on one, the clients on the other)"
SRV=(taskset -c 0) CLI=(taskset -c 1)

T=$(mktemp -d /tmp/tk-mail-bench.XXXXXX)
chmod 755 "$T"
SERVERS=$ROOT/tests/support/servers.sh
PIDS=()
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  set +e
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ $rc != 0 ]; then for f in "$T"/*.log; do [ -e "$f" ] && { echo "== $f"; tail -n 20 "$f"; } >&2; done; fi
  bash "$SERVERS" rabbitmq-stop "$T/rmq" >/dev/null 2>&1
  bash "$SERVERS" stop "$T/pg" >/dev/null 2>&1
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting PostgreSQL + Redis + the SMTP sink$([ "$PATTERN" = A ] && echo " and RabbitMQ") under $T"
"${SRV[@]}" bash "$SERVERS" start "$T/pg" >/dev/null
set -a
# shellcheck source=/dev/null
. "$T/pg/env"
if [ "$PATTERN" = A ]; then
  "${SRV[@]}" bash "$SERVERS" rabbitmq-start "$T/rmq" >/dev/null
  # shellcheck source=/dev/null
  . "$T/rmq/env"
fi
set +a
[ "$PATTERN" = A ] || unset TICKETING_AMQP_URL
unset TICKETING_CONFIG
ADMIN_TOKEN=$(rand_hex 24) SECRET=$(rand_hex 32) SIGNING_SEED=$(rand_hex 32)
export TICKETING_HTTP_HOST=127.0.0.1 TICKETING_SECRET=$SECRET TICKETING_ADMIN_TOKEN=$ADMIN_TOKEN
export TICKETING_TICKET_SIGNING_SEED=$SIGNING_SEED TICKETING_RATE_PER_ADDRESS=0

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start() {  # start NAME ROLE HTTP_PORT: one process of the service, waits for its /readyz
  local ops _
  ops=$(free_port)
  env TICKETING_ROLE="$2" TICKETING_HTTP_PORT="$3" TICKETING_OPS_PORT="$ops" \
    "${SRV[@]}" "$BIN" >"$T/$1.log" 2>&1 </dev/null &
  PIDS+=($!)
  for _ in $(seq 240); do
    kill -0 "${PIDS[-1]}" 2>/dev/null || die "$1 exited during start-up"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$ops/readyz" || true)" = 200 ] &&
      return 0
    sleep 0.5
  done
  die "$1 not ready after 120 s"
}
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
if [ "$PATTERN" = A ]; then
  start worker worker 0
  start api api "$PORT"
else
  start service all "$PORT"
fi
log "pattern $PATTERN ready on $BASE ($(basename "$BUILD_DIR") build)"

log "seeding $N buyers"
env TICKETING_BENCH_SEED=1 "${CLI[@]}" "$SEED" --count "$N" --out "$T/tokens.txt" --prefix mail \
  >"$T/seed.out" 2>&1 || { cat "$T/seed.out" >&2; die "seed failed"; }
VENUE=$(python3 bench/bench.py setup --base "$BASE" --admin-token "$ADMIN_TOKEN" --seats "$N" --venue-only)
Q_FAST='{"admit_per_interval":100000,"interval_ms":50,"max_active":10000000,"access_ttl_seconds":3600}'
PSQL=(psql "$TICKETING_PG_URL" -X -v ON_ERROR_STOP=1 -tAq)

field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p"; }
declare -A ALL
for i in $(seq "$RUNS"); do
  perf=$(python3 bench/bench.py setup --base "$BASE" --admin-token "$ADMIN_TOKEN" --venue "$VENUE" \
    --queue "$Q_FAST" --max-seats 1)
  rm -f "$TK_MAIL_DIR"/*.eml
  log "run $i/$RUNS: burst of $N paid orders on $perf"
  "${CLI[@]}" "$LOADGEN" --url "$BASE" --perf "$perf" --tokens "$T/tokens.txt" --scenario order \
    --mode closed --concurrency "$CONC" --duration 0 --buyers "$N" --admin-token "$ADMIN_TOKEN" \
    --json "$T/loadgen-$i.json" --quiet >"$T/loadgen-$i.out" 2>&1 ||
    { cat "$T/loadgen-$i.out" >&2; die "loadgen failed"; }
  paid=$("${PSQL[@]}" -c "SELECT count(*) FROM orders WHERE performance_id = '$perf' AND status = 'paid'")
  [ "$paid" = "$N" ] || { cat "$T/loadgen-$i.out" >&2; die "run $i: $paid of $N orders paid"; }
  # Counting files is enough to know when to look: this run sends nothing but these receipts.
  t0=$(date +%s)
  while [ "$(find "$TK_MAIL_DIR" -name '*.eml' | wc -l)" -lt "$N" ]; do
    [ $(($(date +%s) - t0)) -lt "$TIMEOUT" ] ||
      die "run $i: $(find "$TK_MAIL_DIR" -name '*.eml' | wc -l) of $N receipts after $TIMEOUT s"
    sleep 0.2
  done
  # A late duplicate (a row delivered twice) would come within the next moments: wait for an empty
  # outbox and a quiet second before counting.
  until [ "$("${PSQL[@]}" -c "SELECT count(*) FROM outbox")" = 0 ]; do
    [ $(($(date +%s) - t0)) -lt "$TIMEOUT" ] || die "run $i: outbox not empty after $TIMEOUT s"
    sleep 0.5
  done
  sleep 2
  "${PSQL[@]}" -F ' ' -c "SELECT id, (extract(epoch FROM paid_at) * 1000000)::bigint FROM orders
    WHERE performance_id = '$perf' AND status = 'paid'" >"$T/paid-$i.txt"
  line=$("${CLI[@]}" python3 bench/mail_latency.py --paid "$T/paid-$i.txt" --mail-dir "$TK_MAIL_DIR") ||
    die "run $i: receipts do not match the paid orders"
  echo "run $i: $line"
  for k in p50_ms p95_ms p99_ms max_ms burst_s last_mail_s; do ALL[$k]+=" $(echo "$line" | field $k)"; done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# shellcheck disable=SC2086  # word splitting of the collected figures is meant
echo "pattern=$PATTERN orders=$N runs=$RUNS concurrency=$CONC build=$BUILD_DIR"
for k in p50_ms p95_ms p99_ms max_ms burst_s last_mail_s; do
  # shellcheck disable=SC2086
  echo "median $k: $(median ${ALL[$k]})"
done
# Anything the service logged above info during the runs, as a hint of trouble.
for f in "$T"/worker.log "$T"/api.log "$T"/service.log; do
  [ -e "$f" ] || continue
  n=$(grep -c '"level":"\(warn\|error\)"' "$f" || true)
  echo "$(basename "$f" .log): $n warning/error lines"
  [ "$n" = 0 ] || grep -o '"level":"\(warn\|error\)","msg":"[^"]*"' "$f" | sort | uniq -c | sort -rn |
    head -5
done
