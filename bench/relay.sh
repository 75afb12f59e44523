#!/usr/bin/env bash
# Pattern A's outbox relay against a bare rabbitmq-c publisher with confirms on the same broker,
# as a ratio measured in one run (medians of alternating runs; the broker and PostgreSQL started
# on free loopback ports in a temp folder and stopped on exit). The broker has core 0 to itself;
# PostgreSQL shares core 1 with the client: the baseline does no database work, and in a deployment
# the database is another machine, so PostgreSQL on the broker's core would measure how two
# servers share a core rather than what the relay costs (both cores: 2026-12-04 in BENCHMARKS.md).
#
#   bash bench/relay.sh [--runs N] [--messages N] [--batch N] [--lanes L] [--build-dir DIR]
#
# Pair (baseline | relay), --messages persistent messages each run, windows/batches of --batch,
# --lanes of them in flight (default: the worker's relay lanes, 4):
#   baseline  bench/relay/main.cpp --mode baseline: one connection, windows published while fewer
#             than L await their confirms (no database)
#   relay     --mode relay: the rows are committed in the outbox first; then L loops of
#             Background::relay_outbox_once each claim a batch, publish it with confirms and
#             delete the confirmed rows, until the outbox is empty
# Prints one line per run and the medians with relay/baseline.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

RUNS=3 N=20000 BATCH=200 LANES=4 BUILD_DIR=$ROOT/build/release
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=${2:?}; shift ;;
    --messages) N=${2:?}; shift ;;
    --batch) BATCH=${2:?}; shift ;;
    --lanes) LANES=${2:?}; shift ;;
    --build-dir) BUILD_DIR=${2:?}; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
BENCH=$BUILD_DIR/bench/relay/relay_bench
[ -x "$BENCH" ] || die "$BENCH missing: cmake --build $BUILD_DIR --target relay_bench"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (servers on one, the client on the other)"

T=$(mktemp -d /tmp/tk-relay-bench.XXXXXX)
chmod 755 "$T"
SERVERS=$ROOT/tests/support/servers.sh
cleanup() {
  set +e
  bash "$SERVERS" rabbitmq-stop "$T/rmq" >/dev/null 2>&1
  bash "$SERVERS" stop "$T/pg" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
log "starting PostgreSQL + Redis and RabbitMQ under $T"
taskset -c 1 bash "$SERVERS" start "$T/pg" >/dev/null
taskset -c 0 bash "$SERVERS" rabbitmq-start "$T/rmq" >/dev/null
PG_URL=$(sed -n 's/^TICKETING_PG_URL=//p' "$T/pg/env")
AMQP_URL=$(sed -n 's/^TICKETING_AMQP_URL=//p' "$T/rmq/env")

rate() { sed -n 's/.* rate=\([0-9.]*\).*/\1/p'; }
base=() relay=()
for i in $(seq "$RUNS"); do
  # Alternate which goes first, so a warming broker favours neither.
  for mode in $( [ $((i % 2)) = 1 ] && echo "baseline relay" || echo "relay baseline"); do
    line=$(taskset -c 1 "$BENCH" --mode "$mode" --amqp "$AMQP_URL" --pg "$PG_URL" \
      --messages "$N" --batch "$BATCH" --lanes "$LANES")
    echo "run $i: $line"
    if [ "$mode" = baseline ]; then base+=("$(echo "$line" | rate)"); else relay+=("$(echo "$line" | rate)"); fi
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mb=$(median "${base[@]}") mr=$(median "${relay[@]}")
echo "messages=$N batch=$BATCH lanes=$LANES runs=$RUNS"
echo "baseline (bare rabbitmq-c, confirms) median: $mb msg/s"
echo "relay (outbox -> RabbitMQ -> delete) median: $mr msg/s"
awk -v r="$mr" -v b="$mb" 'BEGIN {printf "relay / baseline: %.2f\n", r / b}'
