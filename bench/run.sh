#!/usr/bin/env bash
# One command for the system benchmarks: every figure as a ratio to a baseline
# measured in the same run, with the same client settings, server side pinned to one core and
# clients to the other. Writes medians, ratios, command lines, versions and the date into the
# generated section of docs/BENCHMARKS.md (between <!-- bench:begin ... --> and <!-- bench:end -->).
#
#   bash bench/run.sh            5 runs of each pair (about 70 minutes on the 2-core box, up to 30
#                                of them the two 1M-buyer flash crowds)
#   bash bench/run.sh --quick    1 short run of each, a scaled-down flash crowd (a few minutes)
# Options for development: --runs N, --only poll,join,hold,order,mem,flash,flash_a, --no-build,
# --no-doc (print the table, leave docs/BENCHMARKS.md alone), --keep (leave the temp folder),
# --flash-queue JSON (the crowds' queue settings instead of the operator's below, for diagnosis),
# --flash-stall-pg AT:SECS (a fault during each crowd: AT s after it starts, PostgreSQL is
# paused, SIGSTOP of every process, for SECS s; the crowd must still sell every seat once and
# recover its pace once the database is back), --flash-connections N (the load generator's
# keep-alive connections in the crowds; 2048).
#
# What it does: installs missing packages (scripts/deps.sh bench), builds build/release
# (Release, targets ticketing seed loadgen micro_bench), starts PostgreSQL 15 + Redis 7 on free
# loopback ports in a temp folder (tests/support/servers.sh; PostgreSQL as `postgres` when root),
# the service and nginx on free ports, seeds buyers with `seed`, runs the pairs, then stops
# everything (also on failure or Ctrl-C). Raw outputs of the last run: build/bench/last-run/.
#
# Pairs (baseline | service):
#   poll   wrk + bench/baselines/poll.lua: nginx 1 worker `return 200` of a same-size JSON body,
#          logging the service's access-line fields (buffered) while the service's log is on |
#          GET /v1/performances/{pid}/queue/status with valid signed tickets (cycled); then both
#          at half the service's max rate (wrk delay()) for the p99; then the access log's cost:
#          the same poll against two fresh services, TICKETING_ACCESS_LOG=0 | =1 (alternating order);
#          presence's cost: the same poll, queue.presence_timeout_seconds 0 | 60 (alternating);
#          and the same poll through a gateway (TICKETING_ROLE=gateway, the service its upstream,
#          same core), which answers it from its own queue view (metric poll_gateway_rps)
#   join   redis-benchmark EVALSHA of the join script extracted from src/infra/redis/stores/lua.hpp |
#          wrk + bench/baselines/join.lua: POST /v1/performances/{pid}/queue, one session each
#   hold   redis-benchmark EVALSHA of the hold script (4 seats) | loadgen --scenario hold
#   order  pgbench -M prepared -f bench/baselines/order.sql (the SQL of orders.cpp + the fake
#          provider) | loadgen --scenario order (TICKETING_PAYMENT_LATENCY_MS=0)
#   mem    INFO used_memory before/after N joins through the join script (redis-cli --pipe,
#          keys exactly as the service's) | the same over the service's join runs
#   flash  loadgen --scenario flash --mode open (1M buyers at 16,667/s for 100k seats in 100
#          sections; --quick: 20k buyers at 2,000/s for 2,000 seats) --assert
#   flash_a  the same crowd through pattern A: a gateway, an API process, a worker and RabbitMQ on
#          the server core (the pattern-B service stopped first)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

QUICK=0 RUNS=5 ONLY=poll,join,hold,order,mem,flash,flash_a BUILD=1 WRITE_DOC=1 KEEP=0 FLASH_QUEUE=
STALL_PG= STALL_PID= FLASH_CONNECTIONS=2048
ARGS_GIVEN="$*"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; RUNS=1 ;;
    --runs) RUNS=${2:?}; shift ;;
    --only) ONLY=${2:?}; shift ;;
    --no-build) BUILD=0 ;;
    --no-doc) WRITE_DOC=0 ;;
    --keep) KEEP=1 ;;
    --flash-queue) FLASH_QUEUE=${2:?}; shift ;;
    --flash-stall-pg)
      STALL_PG=${2:?}; shift
      [[ $STALL_PG =~ ^[0-9]+:[0-9]+$ ]] || die "--flash-stall-pg takes AT:SECS (whole seconds)" ;;
    --flash-connections)
      FLASH_CONNECTIONS=${2:?}; shift
      [[ $FLASH_CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "--flash-connections takes a count" ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

SERVER_CPU=0 CLIENT_CPU=1
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server side on one, clients on the other)"
SRV=(taskset -c "$SERVER_CPU")
CLI=(taskset -c "$CLIENT_CPU")

# ---- sizes -----------------------------------------------------------------------------------
if [ $QUICK = 1 ]; then
  DUR=5                 # seconds per wrk / pgbench / loadgen run
  POLL_TICKETS=20000    # signed tickets the poll cycles through (5/s, burst 20 per ticket)
  JOIN_TOKENS=200000    # sessions per service join run (one join each: >= rate x DUR)
  JOIN_N=100000         # redis-benchmark calls per join run
  HOLD_N=50000          # redis-benchmark calls per hold run
  MEM_JOINS=200000
  ORDER_POOL=20000      # pgbench orders the data allows per run
  VENUE_SEATS=40000     # venue of the hold/order runs (a new performance per run)
  HOLD_BUYERS=10000     # loadgen hold: 4 distinct free seats each
  ORDER_BUYERS=5000
  FLASH_BUYERS=20000 FLASH_SEATS=2000 FLASH_RATE=2000 FLASH_TIMEOUT=240
else
  DUR=10
  POLL_TICKETS=100000
  JOIN_TOKENS=1000000
  JOIN_N=500000
  HOLD_N=300000
  MEM_JOINS=1000000
  ORDER_POOL=100000
  VENUE_SEATS=50000     # a stadium; performance creation copies every seat row in one statement
  HOLD_BUYERS=12000
  ORDER_BUYERS=12000
  # The timeout leaves room past the admission minimum (~290 s at 200 buyers/s) for the holds
  # of buyers who let them run out (60 s) to come back and be sold: at 480 s, 193 seats were
  # still held by such buyers when the run stopped (2026-11-25); at 720 s on a slower host, 16
  # (2026-12-02). The run ends as soon as every buyer is done.
  FLASH_BUYERS=1000000 FLASH_SEATS=100000 FLASH_RATE=16667 FLASH_TIMEOUT=900
fi
POLL_C=100   # wrk connections, poll (baseline and service)
JOIN_C=50    # redis-benchmark clients = wrk connections, join
HOLD_C=50    # redis-benchmark clients = loadgen requests in flight, hold
ORDER_C=16   # pgbench clients = loadgen requests in flight, order (and the service's PG pool)
# Buyers to seed: as many as the selected pairs use (the join pair's are the most).
SEEDS=$POLL_TICKETS
if want join && [ "$JOIN_TOKENS" -gt "$SEEDS" ]; then SEEDS=$JOIN_TOKENS; fi
if { want flash || want flash_a; } && [ "$FLASH_BUYERS" -gt "$SEEDS" ]; then SEEDS=$FLASH_BUYERS; fi

# ---- packages and build ----------------------------------------------------------------------
bash scripts/deps.sh bench
# TK_BENCH_BUILD_DIR (with --no-build): binaries of another build, e.g. build/test when there is
# no time for a release build; its figures are then not comparable with release ones (noted).
BUILD_DIR=${TK_BENCH_BUILD_DIR:-$ROOT/build/release}
if [ $BUILD = 1 ]; then
  log "building $BUILD_DIR (Release, TK_BUILD_BENCH=ON)"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTK_BUILD_TESTS=OFF \
    -DTK_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target ticketing seed
  # The load generator and the microbenchmarks: rows that need them are reported as missing.
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target loadgen || log "loadgen did not build"
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target micro_bench || log "micro_bench did not build"
fi
BIN=$BUILD_DIR/src/main/ticketing
SEED=$BUILD_DIR/bench/seed/seed
LOADGEN=$BUILD_DIR/bench/loadgen/loadgen
[ -x "$BIN" ] || die "$BIN missing"
[ -x "$SEED" ] || die "$SEED missing"
HAVE_LOADGEN=0
[ -x "$LOADGEN" ] && HAVE_LOADGEN=1

# ---- temp folder, cleanup --------------------------------------------------------------------
T=$(mktemp -d /tmp/tk-bench.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/raw" "$T/nginx/tmp"
RESULTS=$T/results.jsonl COMMANDS=$T/commands.txt MISSING=$T/missing.txt NOTES=$T/notes.txt
: >"$RESULTS"; : >"$COMMANDS"; : >"$MISSING"; : >"$NOTES"
SVC_PID= NGINX_PID= BG_PID= LOGSVC_PID= LOGOFF_PID= GW_PID= RMQ_DIR=
PA_PIDS=()
LAST=$ROOT/build/bench/last-run

stop_pid() {  # stop_pid PID: TERM, wait up to 10 s, then KILL
  local pid=$1 _
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [ -n "$STALL_PID" ]; then  # never leave the database paused
    kill "$STALL_PID" 2>/dev/null
    bash tests/support/servers.sh pg-resume "$T/servers" >/dev/null 2>&1
  fi
  [ -n "$BG_PID" ] && stop_pid "$BG_PID"
  [ -n "$NGINX_PID" ] && stop_pid "$NGINX_PID"
  [ -n "$SVC_PID" ] && stop_pid "$SVC_PID"
  [ -n "$LOGSVC_PID" ] && stop_pid "$LOGSVC_PID"
  [ -n "$LOGOFF_PID" ] && stop_pid "$LOGOFF_PID"
  [ -n "$GW_PID" ] && stop_pid "$GW_PID"
  local p
  # The gateway first, then the API process, then the worker.
  for ((p = ${#PA_PIDS[@]} - 1; p >= 0; p--)); do stop_pid "${PA_PIDS[p]}"; done
  [ -n "$RMQ_DIR" ] && bash tests/support/servers.sh rabbitmq-stop "$RMQ_DIR" >/dev/null 2>&1
  bash tests/support/servers.sh stop "$T/servers" >/dev/null 2>&1
  rm -rf "$LAST"; mkdir -p "$LAST"
  cp -r "$T/raw" "$RESULTS" "$COMMANDS" "$LAST/" 2>/dev/null
  cp "$T/service.log" "$T/nginx/nginx-error.log" "$LAST/" 2>/dev/null
  cp "$T"/pattern-a-*.log "$LAST/" 2>/dev/null
  if [ $KEEP = 1 ]; then log "kept $T"; else rm -rf "$T"; fi
  [ $rc = 0 ] || log "bench/run.sh failed (exit $rc); raw outputs and logs in $LAST"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ops_metrics LOG: the /metrics text of the process whose start-up line is in LOG (the port its
# operations listener took: TICKETING_OPS_PORT=0 lets each process pick a free one).
ops_metrics() {
  local port
  port=$(grep -o '"ops_port":[0-9]*' "$1" | head -n 1 | cut -d: -f2)
  [ -n "$port" ] && [ "$port" != 0 ] && curl -s --max-time 10 "http://127.0.0.1:$port/metrics"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# rec NAME CMD...: notes the command line (first time per NAME) for the report, then runs it.
rec() {
  local name=$1; shift
  if ! grep -q "^# $name\$" "$COMMANDS"; then
    { echo "# $name"; printf '%q ' "$@" | sed 's/ $//'; echo; } >>"$COMMANDS"
  fi
  "$@"
}
record() { python3 bench/bench.py record --results "$RESULTS" "$@"; }
missing() { echo "$*" >>"$MISSING"; log "not measured: $*"; }
note() { echo "$*" >>"$NOTES"; log "note: $*"; }

[ -z "${TK_BENCH_BUILD_DIR:-}" ] ||
  note "binaries of $TK_BENCH_BUILD_DIR, not a release build: not comparable with release figures"

# ---- servers ---------------------------------------------------------------------------------
log "starting PostgreSQL + Redis on CPU $SERVER_CPU ($T/servers)"
"${SRV[@]}" bash tests/support/servers.sh start "$T/servers"
# shellcheck source=/dev/null
. "$T/servers/env"
PG_PORT=$TK_PG_PORT REDIS_PORT=$TK_REDIS_PORT
R=(redis-cli -h 127.0.0.1 -p "$REDIS_PORT")
PSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q)

SVC_PORT=$(free_port)
BASE=http://127.0.0.1:$SVC_PORT
ADMIN_TOKEN=$(rand_hex 24)
export TICKETING_HTTP_HOST=127.0.0.1 TICKETING_HTTP_PORT=$SVC_PORT TICKETING_THREADS=1
export TICKETING_PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT/ticketing
export TICKETING_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export TICKETING_SECRET=$(rand_hex 32) TICKETING_ADMIN_TOKEN=$ADMIN_TOKEN
# The access log as the run command has it (on; stdout to a file), unless given: nginx logs the
# same fields, buffered, when it is on.
export TICKETING_ACCESS_LOG=${TICKETING_ACCESS_LOG:-1} TICKETING_PAYMENT_LATENCY_MS=0
# Every simulated buyer comes from loopback: per-address limits would measure themselves.
export TICKETING_OPS_PORT=0 TICKETING_RATE_PER_ADDRESS=0 TICKETING_SIGNUPS_PER_MINUTE=1000000
export TICKETING_ARGON2_OPSLIMIT=1 TICKETING_ARGON2_MEMLIMIT_KIB=8192
export TICKETING_PG_POOL_SIZE=$ORDER_C TICKETING_MAX_CONNECTIONS=20000
unset TICKETING_CONFIG
SETTINGS="service: TICKETING_THREADS=1 TICKETING_ACCESS_LOG=$TICKETING_ACCESS_LOG (stdout to a \
file; nginx's log $( [ "$TICKETING_ACCESS_LOG" = 0 ] && echo off || echo "on, the same fields, buffered 64k")) \
TICKETING_PAYMENT_LATENCY_MS=0 \
TICKETING_PG_POOL_SIZE=$ORDER_C TICKETING_MAX_CONNECTIONS=20000 TICKETING_ARGON2_OPSLIMIT=1 \
TICKETING_DOOR_TARGET_MS=${TICKETING_DOOR_TARGET_MS:-20 (default)} \
TICKETING_PG_WAIT_TARGET_MS=${TICKETING_PG_WAIT_TARGET_MS:-100 (default)}; \
PostgreSQL and Redis as started by tests/support/servers.sh (PostgreSQL fsync=off, \
synchronous_commit=off, shared_buffers=128MB; Redis appendonly everysec), shared by baseline and \
service; clients: poll $POLL_C connections, join $JOIN_C, hold $HOLD_C, order $ORDER_C, the \
crowds $FLASH_CONNECTIONS; $DUR s per run."

log "starting the service on $BASE (CPU $SERVER_CPU)"
"${SRV[@]}" "$BIN" >"$T/service.log" 2>&1 </dev/null &
SVC_PID=$!
wait_ready "$SVC_PID" "$BASE/readyz" "$T/service.log"
# The malloc the service runs on (its start-up line): a release build links jemalloc.
ALLOCATOR=$(grep -o '"allocator":"[^"]*"' "$T/service.log" | head -n 1 | cut -d'"' -f4)
SETTINGS="${SETTINGS%.}; the service's allocator: ${ALLOCATOR:-not logged}."

make_venue() {  # make_venue SEATS -> prints a new venue id
  python3 bench/bench.py setup --base "$BASE" --admin-token "$ADMIN_TOKEN" --seats "$1" --venue-only
}
setup_perf() {  # setup_perf VENUE [QUEUE_JSON [HOLD_TTL_S]] -> id of a new performance, on sale
  python3 bench/bench.py setup --base "$BASE" --admin-token "$ADMIN_TOKEN" --venue "$1" \
    ${2:+--queue "$2"} ${3:+--hold-ttl "$3"}
}
VENUE_SMALL=$(make_venue 1000)
# Nobody admitted (positions stay `waiting`): admit 1 per minute, 1 active.
Q_HOLDBACK='{"admit_per_interval":1,"interval_ms":60000,"max_active":1}'
Q_FAST='{"admit_per_interval":100000,"interval_ms":50,"max_active":10000000,"access_ttl_seconds":3600}'
# The flash crowd's waiting room is set as an operator would for this box: admit about what the
# order path can take (paid orders/s, measured above; ~200 buyers/s on the full run's one service
# core, which also serves the joins and polls), and cap the buyers choosing seats at once, so the
# queue, not a seat-map and hold storm, absorbs the crowd. The access window is the default 10
# minutes: buyers far back then poll every 2 minutes (Retry-After), not every 30 s. Admitted
# buyers who stop using the sale pages for a minute give their place back (idle timeout), so the
# cap holds buyers still choosing, not those who walked away.
if [ $QUICK = 1 ]; then
  Q_FLASH='{"admit_per_interval":50,"interval_ms":100,"max_active":2000,"access_ttl_seconds":120,"idle_timeout_seconds":60}'
else
  Q_FLASH='{"admit_per_interval":20,"interval_ms":100,"max_active":10000,"access_ttl_seconds":600,"idle_timeout_seconds":60}'
fi
[ -z "$FLASH_QUEUE" ] || Q_FLASH=$FLASH_QUEUE

# ---- buyers ----------------------------------------------------------------------------------
TOKENS=$T/tokens.txt
log "seeding $SEEDS buyers (accounts + sessions)"
rec seed env TICKETING_BENCH_SEED=1 "${CLI[@]}" "$SEED" --count "$SEEDS" --out "$TOKENS" \
  --prefix bench >"$T/raw/seed.txt"
cat "$T/raw/seed.txt" >&2
head -n "$JOIN_TOKENS" "$TOKENS" >"$T/tokens-join.txt"

# ---- Lua scripts of the project --------------------------------------------------------------
lua_script() {  # the text between `NAME = R"lua(` and `)lua"` in lua.hpp
  sed -n "/$1 = R\"lua(/,/)lua\";/p" src/infra/redis/stores/lua.hpp | sed '1d;$d'
}
JOIN_SHA=$("${R[@]}" SCRIPT LOAD "$(lua_script kJoin)")
HOLD_SHA=$("${R[@]}" SCRIPT LOAD "$(lua_script kHold)")
[ ${#JOIN_SHA} = 40 ] && [ ${#HOLD_SHA} = 40 ] || die "could not load the Lua scripts"
NOW_MS=$(date +%s%3N)
LUA_DIR=$ROOT/bench/baselines

service_alive() {
  kill -0 "$SVC_PID" 2>/dev/null && return 0
  tail -n 20 "$T/service.log" >&2
  die "the service (pid $SVC_PID) is gone: stopped by someone else or crashed (log above)"
}
wrk_run() {  # wrk_run NAME OUT URL SCRIPT CONNS DURATION [ENV...]: one wrk run, JSON line in OUT
  local name=$1 out=$2 url=$3 script=$4 conns=$5 dur=$6
  shift 6
  service_alive
  : >"$out"
  rec "$name" env TK_LUA_DIR="$LUA_DIR" TK_OUT="$out" TK_THREADS=1 "$@" \
    "${CLI[@]}" wrk -t1 -c"$conns" -d"${dur}s" --timeout 10s -s "$LUA_DIR/$script" "$url" \
    >"$out.txt" 2>&1 || { cat "$out.txt" >&2; die "wrk failed ($name)"; }
  cat "$out" >>"$out.txt"
}

used_memory() { "${R[@]}" INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
# Waits until Redis has no lazy frees pending (UNLINKed keys), so used_memory is steady.
# The join and tick scripts serve a queue only once it was checked by this Redis process (its run
# id in the queue's `run` field, passed as the scripts' last argument, as the service's client
# does from its handshake; see src/infra/redis/README.md).
redis_run_id() { "${R[@]}" INFO server | tr -d '\r' | sed -n 's/^run_id:\([0-9a-f]*\)$/\1/p'; }

redis_settle() {
  local _
  for _ in $(seq 100); do
    [ "$("${R[@]}" INFO memory | sed -n 's/^lazyfree_pending_objects:\([0-9]*\).*/\1/p')" = 0 ] && break
    sleep 0.1
  done
  sleep 0.5
}

# ---- 5. Redis memory per waiting buyer (first, on a Redis nothing else has written to yet) -----
if want mem; then
  log "memory: $MEM_JOINS joins through the join script"
  mq=prf_benchmem00000000000
  "${R[@]}" HSET "{p:$mq}:q" epoch "$NOW_MS" tail 0 hwm 1000000000000 serving 0 seq 0 \
    run "$(redis_run_id)" >/dev/null
  redis_settle
  m0=$(used_memory)
  python3 bench/bench.py join-resp --sha "$JOIN_SHA" --perf "$mq" --count "$MEM_JOINS" \
    --now "$NOW_MS" --run "$(redis_run_id)" >"$T/join.resp"
  rec redis-pipe-joins "${CLI[@]}" "${R[@]}" --pipe <"$T/join.resp" >"$T/raw/mem-pipe.txt"
  redis_settle
  m1=$(used_memory)
  created=$("${R[@]}" HGET "{p:$mq}:q" tail)
  [ "$created" = "$MEM_JOINS" ] || die "memory: $created of $MEM_JOINS joins created a place"
  record --metric redis_bytes --side baseline --run 1 --tool value \
    --value "$(python3 -c "print(($m1 - $m0) / $created)")" --extra "joins=$created"
  rm -f "$T/join.resp"
  "${R[@]}" EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" \
    0 "{p:$mq}:*" >/dev/null
fi

# ---- 1. queue-status poll ----------------------------------------------------------------------
if want poll; then
  log "poll: collecting $POLL_TICKETS signed tickets"
  POLL_PERF=$(setup_perf "$VENUE_SMALL" "$Q_HOLDBACK")
  head -n "$POLL_TICKETS" "$TOKENS" >"$T/tokens-poll.txt"
  rm -f "$T/tickets."*
  env TK_LUA_DIR="$LUA_DIR" TK_TOKENS="$T/tokens-poll.txt" TK_THREADS=1 TK_COLLECT="$T/tickets" \
    TK_PATH="/v1/performances/$POLL_PERF/queue" TK_OUT="$T/raw/collect.json" \
    "${CLI[@]}" wrk -t1 -c"$JOIN_C" -d600s --timeout 10s -s "$LUA_DIR/join.lua" "$BASE" \
    >"$T/raw/collect.txt" 2>&1 &
  BG_PID=$!
  while kill -0 "$BG_PID" 2>/dev/null && [ ! -e "$T/tickets.0.done" ]; do sleep 0.5; done
  kill -INT "$BG_PID" 2>/dev/null || true
  wait "$BG_PID" || true
  BG_PID=
  sort -u "$T/tickets."[0-9] >"$T/tickets.txt"
  n=$(wc -l <"$T/tickets.txt")
  log "poll: $n tickets"
  [ "$n" -ge $((POLL_TICKETS * 9 / 10)) ] || die "only $n of $POLL_TICKETS joins gave a ticket (see $T/raw/collect.txt)"
  STATUS_PATH=/v1/performances/$POLL_PERF/queue/status
  sample=$(sed -n "$((n / 2))p" "$T/tickets.txt")
  curl -s -D "$T/raw/status-headers.txt" -o "$T/raw/status-body.json" -H "Queue-Ticket: $sample" \
    "$BASE$STATUS_PATH"
  body=$(cat "$T/raw/status-body.json")
  case $body in *'"state":"waiting"'*) ;; *) die "status of a sample ticket: $body" ;; esac
  retry=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/Ip' "$T/raw/status-headers.txt" | tr -d '\r')
  NGINX_PORT=$(free_port)
  NGINX_LOG="$T/nginx/access.log request_json buffer=64k flush=1s"
  [ "$TICKETING_ACCESS_LOG" = 0 ] && NGINX_LOG=off
  sed -e "s#@DIR@#$T/nginx#g" -e "s#@PORT@#$NGINX_PORT#" -e "s#@RETRY_AFTER@#${retry:-5}#" \
    -e "s#@BODY@#$body#" -e "s#@ACCESS_LOG@#$NGINX_LOG#" bench/baselines/nginx.conf.in \
    >"$T/nginx/nginx.conf"
  NGINX_CMD=("${SRV[@]}" nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/nginx-error.log")
  { echo "# nginx"; printf '%q ' "${NGINX_CMD[@]}" | sed 's/ $//'; echo; } >>"$COMMANDS"
  "${NGINX_CMD[@]}" &
  NGINX_PID=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && break
    sleep 0.1
  done
  cmp -s <(curl -s "http://127.0.0.1:$NGINX_PORT$STATUS_PATH") "$T/raw/status-body.json" ||
    die "nginx does not answer the status body"
  note "poll: status body ${#body} bytes, e.g. $body"
  POLL_ENV=(TK_TICKETS="$T/tickets.txt" TK_PATH="$STATUS_PATH")
  # Pattern A's front: a gateway with this service as its one upstream, on the server core.
  GW_PORT=$(free_port)
  GW_CMD=(env TICKETING_ROLE=gateway TICKETING_HTTP_PORT="$GW_PORT"
    TICKETING_GATEWAY_UPSTREAMS="127.0.0.1:$SVC_PORT" "${SRV[@]}" "$BIN")
  { echo "# gateway"; printf '%q ' "${GW_CMD[@]}" | sed 's/ $//'; echo; } >>"$COMMANDS"
  "${GW_CMD[@]}" >"$T/gateway.log" 2>&1 </dev/null &
  GW_PID=$!
  wait_ready "$GW_PID" "http://127.0.0.1:$GW_PORT/readyz" "$T/gateway.log"
  cmp -s <(curl -s -H "Queue-Ticket: $sample" "http://127.0.0.1:$GW_PORT$STATUS_PATH") \
    <(curl -s -H "Queue-Ticket: $sample" "$BASE$STATUS_PATH") ||
    die "the gateway does not answer the service's status body"
  for i in $(seq "$RUNS"); do
    log "poll run $i/$RUNS"
    wrk_run wrk-poll-nginx "$T/raw/poll-nginx-$i.json" "http://127.0.0.1:$NGINX_PORT" poll.lua \
      "$POLL_C" "$DUR" "${POLL_ENV[@]}"
    record --metric poll_rps --side baseline --run "$i" --tool wrk --input "$T/raw/poll-nginx-$i.json"
    wrk_run wrk-poll-service "$T/raw/poll-svc-$i.json" "$BASE" poll.lua "$POLL_C" "$DUR" "${POLL_ENV[@]}"
    record --metric poll_rps --side service --run "$i" --tool wrk --input "$T/raw/poll-svc-$i.json"
    record --metric poll_gateway_rps --side baseline --run "$i" --tool wrk \
      --input "$T/raw/poll-nginx-$i.json"
    wrk_run wrk-poll-gateway "$T/raw/poll-gw-$i.json" "http://127.0.0.1:$GW_PORT" poll.lua \
      "$POLL_C" "$DUR" "${POLL_ENV[@]}"
    record --metric poll_gateway_rps --side service --run "$i" --tool wrk \
      --input "$T/raw/poll-gw-$i.json"
  done
  stop_pid "$GW_PID"
  GW_PID=
  # The access log's cost: the same poll against two fresh service processes on the same core,
  # started together, one with TICKETING_ACCESS_LOG=0 and one with =1 (stdout to a file, as in
  # production); the order within a pair alternates so drift hits both sides. At least 3 pairs
  # even in --quick mode.
  LOGOFF_PORT=$(free_port) LOGON_PORT=$(free_port)
  { echo "# services with the access log off / on"
    echo "env TICKETING_HTTP_PORT=\$LOGOFF_PORT TICKETING_ACCESS_LOG=0 taskset -c $SERVER_CPU \$BIN > \$T/service-log-off.log"
    echo "env TICKETING_HTTP_PORT=\$LOGON_PORT TICKETING_ACCESS_LOG=1 taskset -c $SERVER_CPU \$BIN > \$T/service-log-on.log"
  } >>"$COMMANDS"
  TICKETING_HTTP_PORT=$LOGOFF_PORT TICKETING_ACCESS_LOG=0 "${SRV[@]}" "$BIN" \
    >"$T/service-log-off.log" 2>&1 </dev/null &
  LOGOFF_PID=$!
  TICKETING_HTTP_PORT=$LOGON_PORT TICKETING_ACCESS_LOG=1 "${SRV[@]}" "$BIN" \
    >"$T/service-log-on.log" 2>&1 </dev/null &
  LOGSVC_PID=$!
  wait_ready "$LOGOFF_PID" "http://127.0.0.1:$LOGOFF_PORT/readyz" "$T/service-log-off.log"
  wait_ready "$LOGSVC_PID" "http://127.0.0.1:$LOGON_PORT/readyz" "$T/service-log-on.log"
  log_run() {  # log_run off|on PAIR
    local side=baseline port=$LOGOFF_PORT
    [ "$1" = on ] && side=service port=$LOGON_PORT
    wrk_run "wrk-poll-log-$1" "$T/raw/poll-log-$1-$2.json" "http://127.0.0.1:$port" poll.lua \
      "$POLL_C" "$DUR" "${POLL_ENV[@]}"
    record --metric poll_log_rps --side "$side" --run "$2" --tool wrk --input "$T/raw/poll-log-$1-$2.json"
  }
  LOG_PAIRS=$RUNS
  [ "$LOG_PAIRS" -ge 4 ] || LOG_PAIRS=4
  for i in $(seq "$LOG_PAIRS"); do
    log "poll, access log off/on, pair $i/$LOG_PAIRS"
    if [ $((i % 2)) = 1 ]; then log_run off "$i"; log_run on "$i"; else log_run on "$i"; log_run off "$i"; fi
  done
  dropped=$(ops_metrics "$T/service-log-on.log" |
    sed -n 's/^log_lines_dropped_total \([0-9.e+]*\).*/\1/p')
  note "access log on: $(wc -l <"$T/service-log-on.log") lines written, ${dropped:-?} dropped"
  stop_pid "$LOGSVC_PID"
  stop_pid "$LOGOFF_PID"
  LOGSVC_PID= LOGOFF_PID=
  # Presence's cost: the same poll on the main service, the performance's
  # queue.presence_timeout_seconds 0 | 60 set through the admin API before each run (a change
  # reaches the poll path with the next settings refresh, 1 s); with it on, every poll marks its
  # place and the marks go to Redis once a second. Order alternates within a pair.
  presence_set() {  # presence_set SECONDS
    curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $ADMIN_TOKEN" \
      -H 'Content-Type: application/json' \
      -d "{\"queue\":{\"presence_timeout_seconds\":$1}}" \
      "$BASE/v1/admin/performances/$POLL_PERF" || die "presence $1 s: PATCH refused"
    sleep 2
  }
  presence_run() {  # presence_run off|on PAIR
    local side=baseline secs=0
    [ "$1" = on ] && side=service secs=60
    presence_set "$secs"
    wrk_run "wrk-poll-presence-$1" "$T/raw/poll-presence-$1-$2.json" "$BASE" poll.lua \
      "$POLL_C" "$DUR" "${POLL_ENV[@]}"
    record --metric poll_presence_rps --side "$side" --run "$2" --tool wrk \
      --input "$T/raw/poll-presence-$1-$2.json"
  }
  PRES_PAIRS=$RUNS
  [ "$PRES_PAIRS" -ge 4 ] || PRES_PAIRS=4
  for i in $(seq "$PRES_PAIRS"); do
    log "poll, presence off/on, pair $i/$PRES_PAIRS"
    if [ $((i % 2)) = 1 ]; then presence_run off "$i"; presence_run on "$i"; else presence_run on "$i"; presence_run off "$i"; fi
  done
  presence_set 0  # the p99 runs below poll without presence, as before
  # p99 at half the service's measured maximum, same rate for nginx. wrk is closed-loop: each
  # connection waits TK_DELAY_MS between a response and its next request.
  max=$(python3 - "$RESULTS" <<'PY'
import json, statistics, sys
v = [json.loads(l)["value"] for l in open(sys.argv[1]) if '"poll_rps"' in l and '"service"' in l]
print(statistics.median(v))
PY
)
  half=$(python3 -c "print(round($max / 2))")
  delay=$(python3 -c "print(max(1, round($POLL_C * 1000 / $half)))")  # wrk takes whole ms
  note "poll p99: wrk with delay() ${delay} ms per connection ($POLL_C connections) for ~$half req/s"
  for i in $(seq "$RUNS"); do
    log "poll at half load ($half req/s) run $i/$RUNS"
    wrk_run wrk-poll-nginx-half "$T/raw/poll-half-nginx-$i.json" "http://127.0.0.1:$NGINX_PORT" \
      poll.lua "$POLL_C" "$DUR" "${POLL_ENV[@]}" TK_DELAY_MS="$delay"
    record --metric poll_p99 --side baseline --run "$i" --tool wrk \
      --input "$T/raw/poll-half-nginx-$i.json" --extra "rate_target=$half"
    wrk_run wrk-poll-service-half "$T/raw/poll-half-svc-$i.json" "$BASE" poll.lua "$POLL_C" "$DUR" \
      "${POLL_ENV[@]}" TK_DELAY_MS="$delay"
    record --metric poll_p99 --side service --run "$i" --tool wrk \
      --input "$T/raw/poll-half-svc-$i.json" --extra "rate_target=$half"
  done
  stop_pid "$NGINX_PID"
  NGINX_PID=
  # The same rate open-loop (latency from the intended send time: no coordinated omission).
  if [ $HAVE_LOADGEN = 1 ]; then
    for i in $(seq "$RUNS"); do
      log "poll at half load, open loop (loadgen), run $i/$RUNS"
      perf=$(setup_perf "$VENUE_SMALL" "$Q_HOLDBACK")
      rec loadgen-poll-open "${CLI[@]}" "$LOADGEN" --url "$BASE" --perf "$perf" --tokens "$TOKENS" \
        --scenario poll --mode open --rate "$half" --buyers "$POLL_TICKETS" --duration "$DUR" \
        --json "$T/raw/poll-open-$i.json" --quiet >"$T/raw/poll-open-$i.txt" 2>&1 ||
        { cat "$T/raw/poll-open-$i.txt" >&2; die "loadgen poll failed"; }
      record --metric poll_p99_open --side service --run "$i" --tool loadgen --step poll \
        --input "$T/raw/poll-open-$i.json" --extra "rate_target=$half"
    done
  else
    missing "poll p99 open-loop: loadgen not built (only wrk's closed-loop figure)"
  fi
fi

# ---- 2. join -----------------------------------------------------------------------------------
if want join; then
  for i in $(seq "$RUNS"); do
    log "join run $i/$RUNS"
    # Baseline: one fresh queue per run, hwm high enough that no call asks for a reservation.
    # Accounts are random: -r = calls/128 gives buckets of ~128 entries, as the service's.
    bq="{p:bench-join-$i}"
    "${R[@]}" HSET "$bq:q" epoch "$NOW_MS" tail 0 hwm 1000000000000 serving 0 seq 0 \
      run "$(redis_run_id)" >/dev/null
    rec redis-benchmark-join "${CLI[@]}" redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$JOIN_C" \
      -n "$JOIN_N" -r $((JOIN_N / 128)) --csv EVALSHA "$JOIN_SHA" 4 "$bq:q" "$bq:a:__rand_int__" \
      "$bq:seen" "$bq:gone" __rand_int__ "$NOW_MS" 0 "" "$(redis_run_id)" >"$T/raw/join-rb-$i.csv"
    created=$("${R[@]}" HGET "$bq:q" tail)
    record --metric join_rps --side baseline --run "$i" --tool redis-benchmark \
      --input "$T/raw/join-rb-$i.csv" --extra "created_share=$(python3 -c "print($created / $JOIN_N)")"
    "${R[@]}" EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k) end" \
      0 "$bq:*" >/dev/null
    # Service: a fresh performance per run, so each session joins once.
    perf=$(setup_perf "$VENUE_SMALL" "$Q_HOLDBACK")
    redis_settle
    m0=$(used_memory)
    wrk_run wrk-join-service "$T/raw/join-svc-$i.json" "$BASE" join.lua "$JOIN_C" "$DUR" \
      TK_TOKENS="$T/tokens-join.txt" TK_PATH="/v1/performances/$perf/queue"
    redis_settle
    m1=$(used_memory)
    created=$("${R[@]}" HGET "{p:$perf}:q" tail)
    reqs=$(python3 -c "import json; print(json.load(open('$T/raw/join-svc-$i.json'))['requests'])")
    record --metric join_rps --side service --run "$i" --tool wrk --input "$T/raw/join-svc-$i.json" \
      --extra "created_share=$(python3 -c "print(${created:-0} / max(1, $reqs))")"
    if [ "${created:-0}" -gt 10000 ]; then
      record --metric redis_bytes --side service --run "$i" --tool value \
        --value "$(python3 -c "print(($m1 - $m0) / $created)")" --extra "joins=$created"
    fi
    [ "$reqs" -le "$JOIN_TOKENS" ] ||
      note "join run $i: $reqs requests for $JOIN_TOKENS sessions, so some were repeat joins (200)"
  done
fi

# ---- 3. hold -----------------------------------------------------------------------------------
VENUE_BIG=
if [ $HAVE_LOADGEN = 1 ] && { want hold || want order; }; then VENUE_BIG=$(make_venue "$VENUE_SEATS"); fi
if want hold; then
  for i in $(seq "$RUNS"); do
    log "hold run $i/$RUNS"
    # Baseline: random seats/accounts/hold ids over a large space, holds live 5 min (so seats
    # taken by an earlier call answer `unavailable`, as in the service); ids as long as the
    # service's (st_/acc_ + 22 characters, hold id = perf~hld_ + 22).
    bp="{p:prf_bench0000000hold$i}"
    pre=prf_bench0000000hold$i
    "${R[@]}" SET "$bp:loaded" 1 >/dev/null
    rec redis-benchmark-hold "${CLI[@]}" redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$HOLD_C" \
      -n "$HOLD_N" -r 100000000 --csv EVALSHA "$HOLD_SHA" 9 "$bp:seat" "$bp:sold" "$bp:hx" \
      "$bp:ah:acc_0000000000__rand_int__" "$bp:h:$pre~hld_0000000000__rand_int__" "$bp:loaded" \
      "$bp:ver" "$bp:bought" "$bp:gone" "$NOW_MS" $((NOW_MS + 300000)) "$pre~hld_0000000000__rand_int__" \
      acc_0000000000__rand_int__ 4 100000000 600000 __rand_int__ st_0000000000__rand_int__ \
      st_0000000000__rand_int__ st_0000000000__rand_int__ st_0000000000__rand_int__ \
      >"$T/raw/hold-rb-$i.csv"
    ok=$("${R[@]}" GET "$bp:ver")
    record --metric hold_rps --side baseline --run "$i" --tool redis-benchmark \
      --input "$T/raw/hold-rb-$i.csv" --extra "ok_share=$(python3 -c "print(${ok:-0} / $HOLD_N)")"
    "${R[@]}" EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k) end" \
      0 "$bp:*" >/dev/null
    if [ $HAVE_LOADGEN = 1 ]; then
      perf=$(setup_perf "$VENUE_BIG" "$Q_FAST")
      rec loadgen-hold "${CLI[@]}" "$LOADGEN" --url "$BASE" --perf "$perf" --tokens "$TOKENS" \
        --scenario hold --mode closed --concurrency "$HOLD_C" --duration "$DUR" \
        --buyers "$HOLD_BUYERS" --admin-token "$ADMIN_TOKEN" --json "$T/raw/hold-lg-$i.json" --quiet \
        >"$T/raw/hold-lg-$i.txt" 2>&1 || { cat "$T/raw/hold-lg-$i.txt" >&2; die "loadgen hold failed"; }
      record --metric hold_rps --side service --run "$i" --tool loadgen --step hold \
        --input "$T/raw/hold-lg-$i.json"
    fi
  done
  [ $HAVE_LOADGEN = 1 ] || missing "hold, service side: loadgen not built"
fi

# ---- 4. paid orders ----------------------------------------------------------------------------
if want order; then
  log "order: pgbench database (pool of $ORDER_POOL orders)"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE pgbench_orders"
  for f in db/migrations/*.sql; do "${PSQL[@]}" -d pgbench_orders -f "$ROOT/$f"; done
  "${PSQL[@]}" -d pgbench_orders -v orders="$ORDER_POOL" -f bench/baselines/order_setup.sql
  for i in $(seq "$RUNS"); do
    log "order run $i/$RUNS"
    "${PSQL[@]}" -d pgbench_orders -f bench/baselines/order_reset.sql
    rec pgbench-order "${CLI[@]}" pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared \
      -c "$ORDER_C" -j 1 -T "$DUR" -f "$ROOT/bench/baselines/order.sql" pgbench_orders \
      >"$T/raw/order-pgbench-$i.txt" 2>&1 || { cat "$T/raw/order-pgbench-$i.txt" >&2; die "pgbench failed"; }
    used=$("${PSQL[@]}" -d pgbench_orders -tAc "SELECT last_value FROM bench_k")
    [ "$used" -lt "$ORDER_POOL" ] || die "pgbench used the whole pool of $ORDER_POOL orders: raise ORDER_POOL"
    paid=$("${PSQL[@]}" -d pgbench_orders -tAc "SELECT count(*) FROM orders WHERE status = 'paid'")
    record --metric order_ops --side baseline --run "$i" --tool pgbench \
      --input "$T/raw/order-pgbench-$i.txt" --extra "paid=$paid"
    if [ $HAVE_LOADGEN = 1 ]; then
      perf=$(setup_perf "$VENUE_BIG" "$Q_FAST")
      rec loadgen-order "${CLI[@]}" "$LOADGEN" --url "$BASE" --perf "$perf" --tokens "$TOKENS" \
        --scenario order --mode closed --concurrency "$ORDER_C" --duration "$DUR" \
        --buyers "$ORDER_BUYERS" --admin-token "$ADMIN_TOKEN" --json "$T/raw/order-lg-$i.json" --quiet \
        >"$T/raw/order-lg-$i.txt" 2>&1 || { cat "$T/raw/order-lg-$i.txt" >&2; die "loadgen order failed"; }
      record --metric order_ops --side service --run "$i" --tool loadgen --step pay --field paid_orders_per_s \
        --input "$T/raw/order-lg-$i.json"
    fi
  done
  [ $HAVE_LOADGEN = 1 ] || missing "paid orders, service side: loadgen not built"
fi

# ---- 6. flash crowd ------------------------------------------------------------------------------
# flash_crowd METRIC URL LABEL LOG: the crowd against the front at URL, on a new performance set
# up through it; its record (METRIC flash or flash_a) in the results, or why there is none. LOG:
# the start-up log of the process that runs the API, whose latency histograms are scraped after;
# GW_LOG (pattern A): the gateway's, scraped too.
flash_crowd() {
  local metric=$1 url=$2 label=$3 api_log=$4 gw_log=${5:-} venue perf rc=0
  local out=$T/raw/$metric
  if [ $HAVE_LOADGEN = 0 ]; then
    echo "{\"metric\":\"$metric\",\"side\":\"service\",\"run\":1,\"status\":\"missing\",\"label\":\"$label\",\"why\":\"loadgen not built\"}" >>"$RESULTS"
    missing "$metric: loadgen not built"
    return 0
  fi
  log "$metric: $label"
  # A quiet start: the earlier benchmarks' paid orders are relayed first (receipts, rankings), so
  # the crowd's setup and first minute do not share PostgreSQL with their backlog.
  local i left
  for i in $(seq 600); do
    left=$("${PSQL[@]}" -d ticketing -tAc "SELECT count(*) FROM outbox WHERE parked_at IS NULL")
    [ "$left" = 0 ] && break
    [ $((i % 20)) = 1 ] && log "$metric: waiting for $left outbox rows to be relayed"
    sleep 0.5
  done
  venue=$(python3 bench/bench.py setup --base "$url" --admin-token "$ADMIN_TOKEN" \
    --seats "$FLASH_SEATS" --venue-only)
  # Holds live 60 s (not 300): seats of buyers who walk away come back while the crowd is there.
  perf=$(python3 bench/bench.py setup --base "$url" --admin-token "$ADMIN_TOKEN" \
    --venue "$venue" --queue "$Q_FLASH" --hold-ttl 60)
  if [ -n "$STALL_PG" ]; then
    (
      sleep "${STALL_PG%%:*}"
      log "$metric: PostgreSQL paused for ${STALL_PG#*:} s"
      bash tests/support/servers.sh pg-pause "$T/servers"
      sleep "${STALL_PG#*:}"
      bash tests/support/servers.sh pg-resume "$T/servers"
      log "$metric: PostgreSQL resumed"
    ) &
    STALL_PID=$!
  fi
  rec "loadgen-$metric" "${CLI[@]}" "$LOADGEN" --url "$url" --perf "$perf" --tokens "$TOKENS" \
    --scenario flash --buyers "$FLASH_BUYERS" --mode open --rate "$FLASH_RATE" \
    --timeout "$FLASH_TIMEOUT" --connections "$FLASH_CONNECTIONS" \
    --admin-token "$ADMIN_TOKEN" --pg-url "$TICKETING_PG_URL" --redis-url "$TICKETING_REDIS_URL" \
    --json "$out.json" --assert --quiet >"$out.txt" 2>&1 || rc=$?
  # The API process's own latency histograms (request read -> response written, per route): what
  # it took, apart from the load generator's waits, the loopback and, in pattern A, the gateway.
  ops_metrics "$api_log" >"$out-metrics.txt" || true
  local gw_args=()
  if [ -n "$gw_log" ]; then
    ops_metrics "$gw_log" >"$out-gateway-metrics.txt" || true
    gw_args=(--gateway-metrics "$out-gateway-metrics.txt")
  fi
  if [ -s "$out.json" ]; then
    python3 bench/bench.py flash --metric "$metric" --results "$RESULTS" --input "$out.json" \
      --metrics "$out-metrics.txt" "${gw_args[@]}" --label "$label" --exit "$rc"
    [ $rc = 0 ] || note "$metric: loadgen --assert failed (exit $rc): $(grep -i -m3 'fail' "$out.txt" | tr '\n' ' ')"
  else
    cat "$out.txt" >&2
    echo "{\"metric\":\"$metric\",\"side\":\"service\",\"run\":1,\"status\":\"missing\",\"label\":\"$label\",\"why\":\"loadgen exited $rc without a report\"}" >>"$RESULTS"
  fi
}
FLASH_LABEL="$FLASH_BUYERS joins at $FLASH_RATE/s, $FLASH_SEATS seats"
[ -z "$FLASH_QUEUE" ] || FLASH_LABEL="$FLASH_LABEL, queue $Q_FLASH"
[ -z "$STALL_PG" ] ||
  FLASH_LABEL="$FLASH_LABEL, PostgreSQL paused ${STALL_PG#*:} s at ${STALL_PG%%:*} s"
want flash && flash_crowd flash "$BASE" "$FLASH_LABEL" "$T/service.log"

# ---- 7. flash crowd through pattern A -----------------------------------------------------------
# The same crowd against pattern A on the same server core: a gateway in front of one API process
# (TICKETING_ROLE=api), one worker (the admission ticks, hold expiry and outbox relay) and
# RabbitMQ between them. The pattern-B service is stopped first: its background loops would
# serve the sale too.
if want flash_a; then
  stop_pid "$SVC_PID"
  SVC_PID=
  "${SRV[@]}" bash tests/support/servers.sh rabbitmq-start "$T/rmq" >"$T/raw/rabbitmq.txt" 2>&1 ||
    { cat "$T/raw/rabbitmq.txt" >&2; die "RabbitMQ did not start"; }
  RMQ_DIR=$T/rmq
  # shellcheck source=/dev/null
  . "$T/rmq/env"
  export TICKETING_AMQP_URL
  API_PORT=$(free_port) GWA_PORT=$(free_port) WORKER_OPS=$(free_port)
  # NAME READY_URL VAR=VALUE...: started in this order, each ready before the next.
  PA_ROLES=(
    "worker http://127.0.0.1:$WORKER_OPS/readyz TICKETING_ROLE=worker TICKETING_HTTP_PORT=0 TICKETING_OPS_PORT=$WORKER_OPS"
    "api http://127.0.0.1:$API_PORT/readyz TICKETING_ROLE=api TICKETING_HTTP_PORT=$API_PORT TICKETING_TRUSTED_PROXIES=127.0.0.1"
    "gateway http://127.0.0.1:$GWA_PORT/readyz TICKETING_ROLE=gateway TICKETING_HTTP_PORT=$GWA_PORT TICKETING_GATEWAY_UPSTREAMS=127.0.0.1:$API_PORT"
  )
  for spec in "${PA_ROLES[@]}"; do
    read -r -a words <<<"$spec"
    cmd=(env "${words[@]:2}" "${SRV[@]}" "$BIN")
    { echo "# pattern A: ${words[0]}"; printf '%q ' "${cmd[@]}" | sed 's/ $//'; echo; } >>"$COMMANDS"
    "${cmd[@]}" >"$T/pattern-a-${words[0]}.log" 2>&1 </dev/null &
    PA_PIDS+=("$!")
    wait_ready "$!" "${words[1]}" "$T/pattern-a-${words[0]}.log"
  done
  flash_crowd flash_a "http://127.0.0.1:$GWA_PORT" \
    "$FLASH_LABEL; a gateway, an API process, a worker, RabbitMQ" "$T/pattern-a-api.log" \
    "$T/pattern-a-gateway.log"
fi

# ---- report --------------------------------------------------------------------------------------
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=true
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
versions=(
  "$(gcc --version | head -1)"
  "$(nginx -v 2>&1 | head -1)"
  "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  "$(redis-server --version | cut -d' ' -f1-3)"
  "$(redis-benchmark --version 2>&1 | head -1)"
  "$(pgbench --version)"
  "$("$(pg_bin)/postgres" --version)"
  "Linux $(uname -r)"
)
python3 - "$T/meta.json" "$COMMANDS" "$MISSING" "$NOTES" "$QUICK" "$RUNS" "$commit" "$dirty" \
  "$cpu" "$SETTINGS" "$MEM_JOINS" "bash bench/run.sh${ARGS_GIVEN:+ $ARGS_GIVEN}" "$ADMIN_TOKEN" \
  "${versions[@]}" <<'PY'
import json, sys, datetime, os
out, cmds, missing, notes, quick, runs, commit, dirty, cpu, settings, mem, command, admin = \
    sys.argv[1:14]
versions = sys.argv[14:]
lines = [l.rstrip("\n") for l in open(cmds)]
# Commands file: "# name" then the line; keep the lines, replacing the temp folder by $T.
tmp = os.path.dirname(out)
commands = []
for l in lines:
    if l.startswith("# "):
        commands.append(l)
    else:
        commands.append(l.replace(tmp, "$T").replace(admin, "$ADMIN_TOKEN"))
json.dump({"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "command": command, "quick": quick == "1", "runs": int(runs), "commit": commit,
           "dirty": dirty == "true", "machine": f"{os.cpu_count()} x {cpu}",
           "server_cpu": 0, "client_cpu": 1, "settings": settings, "mem_joins": f"{int(mem):,}",
           "commands": commands, "versions": versions,
           "missing": [l.strip() for l in open(missing) if l.strip()],
           "notes": [l.strip() for l in open(notes) if l.strip()]}, open(out, "w"), indent=1)
PY
cp "$T/meta.json" "$T/raw/"
if [ $WRITE_DOC = 1 ]; then
  python3 bench/bench.py report --results "$RESULTS" --meta "$T/meta.json" --doc docs/BENCHMARKS.md
  log "docs/BENCHMARKS.md updated"
else
  cp docs/BENCHMARKS.md "$T/BENCHMARKS.md"
  python3 bench/bench.py report --results "$RESULTS" --meta "$T/meta.json" --doc "$T/BENCHMARKS.md"
fi
