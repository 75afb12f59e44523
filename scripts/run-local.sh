#!/usr/bin/env bash
# Sets up and runs the whole system on this machine: installs packages, builds the service,
# starts PostgreSQL, Redis and a local SMTP sink under .local/ (only if not running yet),
# (re)starts the service with the fresh build, seeds a demo event once, and prints where to go.
# Safe to run again.
# Stop everything with: bash scripts/stop-local.sh
#
#   run-local.sh [--pattern B]   one process does everything (the default)
#   run-local.sh --pattern A [--gateways G] [--api N] [--workers M]
#       RabbitMQ, G gateways (1) in front of N API processes (2), and M workers (1). A gateway
#       answers queue polls itself, applies the shared limits and forwards the rest to the API
#       processes (keep-alive pools, /readyz checks, safe retries); the outbox goes to the
#       workers through RabbitMQ. One gateway listens on TICKETING_HTTP_PORT (8080) itself; with
#       several, HAProxy takes that port and spreads over them (PROXY protocol v2 carries the
#       client address). Ports: gateways 8181.. (ops 9291..) behind HAProxy, API processes
#       8081.. (ops 9091..), workers' ops 9191..; logs and pids in .local/pattern-a/.
#   run-local.sh --ha [--pattern A|B] [--gateways G] [--api N] [--workers M]
#       The high-availability front: the edge (nginx + ModSecurity with the OWASP Core Rule Set,
#       caching the public catalogue) on https://localhost:8443 (TK_EDGE_PORT), in front of the
#       balancer (HAProxy: TLS, HTTP/2, /readyz checks, safe retries, drain) on
#       https://localhost:8444 (TK_LB_PORT), in front of G gateways (2; pattern A, the default
#       with --ha) or of N service processes (2, pattern B: each applies its rate limits on its
#       own). Certificates come from a local CA made once in .local/ha/tls/ (its ca.crt is
#       printed: curl --cacert, or import it into a browser). Redis runs as a primary, a replica
#       and three Sentinels (.local/ha/redis/), PostgreSQL as two Patroni nodes, a primary and a
#       synchronous replica, with etcd (.local/ha/pg/, data kept between runs); the service
#       follows a failover of either.
#
# Overrides (environment): TK_PG_PORT (55432), TK_REDIS_PORT (56379), TICKETING_HTTP_PORT (8080),
# TK_SMTP_PORT (52525), TICKETING_HTTP_HOST (127.0.0.1), any other TICKETING_* setting (a
# TICKETING_SMTP_URL given here is used instead of the local sink; a TICKETING_STATIC_DIR is served
# as it is, without building the front-end); TK_SERVICE_BIN: a service binary already built, run
# instead of building build/release; TK_NO_SERVICE=1 only starts the databases (no build, service
# or seed).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TK_ROOT"

PATTERN='' HA=0 API_COUNT=${TK_API_COUNT:-2} WORKER_COUNT=${TK_WORKER_COUNT:-1} GATEWAY_COUNT=${TK_GATEWAY_COUNT:-1}
while [ $# -gt 0 ]; do
  case $1 in
    --pattern) PATTERN=${2:?--pattern A|B}; shift ;;
    --api) API_COUNT=${2:?}; shift ;;
    --workers) WORKER_COUNT=${2:?}; shift ;;
    --gateways) GATEWAY_COUNT=${2:?}; GATEWAYS_SET=1; shift ;;
    --ha) HA=1 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
# --ha runs pattern A with two gateways unless told otherwise.
if [ "$HA" = 1 ]; then
  PATTERN=${PATTERN:-A}
  [ -n "${TK_GATEWAY_COUNT:-}" ] || [ -n "${GATEWAYS_SET:-}" ] || GATEWAY_COUNT=2
fi
PATTERN=${PATTERN:-B}
case $PATTERN in A|a) PATTERN=A ;; B|b) PATTERN=B ;; *) die "--pattern A or B" ;; esac
[ "$API_COUNT" -ge 1 ] 2>/dev/null || die "--api needs a count of at least 1"
[ "$WORKER_COUNT" -ge 1 ] 2>/dev/null || die "--workers needs a count of at least 1"
[ "$GATEWAY_COUNT" -ge 1 ] 2>/dev/null || die "--gateways needs a count of at least 1"

bash scripts/deps.sh
if [ "${TK_NO_SERVICE:-0}" != 1 ]; then
  [ -n "${TK_SERVICE_BIN:-}" ] || bash scripts/build.sh release
  # The web front-end (npm ci when needed + vite build into web/dist), served by the service.
  [ -n "${TICKETING_STATIC_DIR:-}" ] || bash web/scripts/setup.sh "$TK_ROOT/web/dist"
fi

prepare_dirs
ensure_secrets
if [ "$HA" = 1 ] && [ "${TK_NO_SERVICE:-0}" != 1 ]; then
  ha_pg_up
  ha_redis_up
else
  pg_start
  redis_start
fi
# Receipt e-mails go to a local sink unless TICKETING_SMTP_URL names a real server.
[ -n "${TICKETING_SMTP_URL:-}" ] || smtp_start

if [ "${TK_NO_SERVICE:-0}" = 1 ]; then
  log "TK_NO_SERVICE=1: databases up (PostgreSQL 127.0.0.1:$TK_PG_PORT, Redis 127.0.0.1:$TK_REDIS_PORT)"
  exit 0
fi

BIN=${TK_SERVICE_BIN:-$TK_ROOT/build/release/src/main/ticketing}
[ -x "$BIN" ] || die "service binary $BIN not found"

# --- (re)start the service -----------------------------------------------------------------------
export TICKETING_HTTP_HOST=${TICKETING_HTTP_HOST:-127.0.0.1}
export TICKETING_HTTP_PORT=${TICKETING_HTTP_PORT:-8080}
export TICKETING_PG_URL=${TICKETING_PG_URL:-postgresql://postgres@127.0.0.1:$TK_PG_PORT/ticketing}
export TICKETING_REDIS_URL=${TICKETING_REDIS_URL:-redis://127.0.0.1:$TK_REDIS_PORT}
export TICKETING_STATIC_DIR=${TICKETING_STATIC_DIR:-$TK_ROOT/web/dist}
# A local run serves one person trying things and scripts on loopback: the contract's local
# defaults (1,000 sign-ups a minute) instead of the production ones.
export TICKETING_SIGNUPS_PER_MINUTE=${TICKETING_SIGNUPS_PER_MINUTE:-1000}
export TICKETING_OPS_PORT=${TICKETING_OPS_PORT:-9090}
if [ -n "${TICKETING_SMTP_URL:-}" ]; then
  mailbox="sent through $TICKETING_SMTP_URL"
else
  export TICKETING_SMTP_URL=smtp://127.0.0.1:$TK_SMTP_PORT
  mailbox="$TK_MAIL_DIR/inbox (one .eml file per message)"
fi
set -a
# shellcheck source=/dev/null
. "$TK_SECRETS"
set +a

prom_down   # started again over the new processes below
service_stop
pattern_a_stop
ha_front_stop
if [ "$HA" = 0 ] && port_busy "$TICKETING_HTTP_PORT"; then
  die "port $TICKETING_HTTP_PORT is already in use by another program; set TICKETING_HTTP_PORT"
fi
BASE=http://$TICKETING_HTTP_HOST:$TICKETING_HTTP_PORT
# The links in e-mails (a waiting-list offer) lead to where this run serves the web app.
if [ "$HA" = 1 ]; then
  export TICKETING_PUBLIC_URL=${TICKETING_PUBLIC_URL:-https://localhost:$TK_EDGE_PORT}
else
  export TICKETING_PUBLIC_URL=${TICKETING_PUBLIC_URL:-$BASE}
fi
mkdir -p "$TK_PA_DIR"
# start_role NAME ROLE PORT OPS_PORT [VAR=VALUE...]: one process of the service in ROLE.
start_role() {
  local name=$1 role=$2 port=$3 ops=$4
  shift 4
  local logf=$TK_PA_DIR/$name.log
  port_busy "$ops" && die "port $ops (ops of $name) is in use; stop what holds it"
  { echo; echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) scripts/run-local.sh ==="; } >>"$logf"
  env TICKETING_ROLE="$role" TICKETING_HTTP_PORT="$port" TICKETING_OPS_PORT="$ops" "$@" \
    nohup "$BIN" >>"$logf" 2>&1 </dev/null &
  echo $! >"$TK_PA_DIR/$name.pid"
  wait_ready "$!" "http://127.0.0.1:$ops/readyz" "$logf"
  prom_targets+=("$name=$role=127.0.0.1:$ops")
  log "$name ready (role $role$( [ "$role" != worker ] && echo ", http://127.0.0.1:$port"), ops http://127.0.0.1:$ops)"
}
# Processes behind the HA balancer read the PROXY protocol from it and trust it (and the edge) for
# X-Forwarded-For; after SIGTERM they keep serving for 3 s while /readyz answers 503, so the
# balancer's checks (every 500 ms, out after two failures) take them out before they close.
BEHIND_LB=(TICKETING_TRUSTED_PROXIES=127.0.0.1 TICKETING_PROXY_PROTOCOL=1 TICKETING_DRAIN_DELAY_MS=3000)
lb_servers=()
prom_targets=()   # PROCESS=ROLE=HOST:OPS_PORT of every process started: Prometheus scrapes them

if [ "$PATTERN" = B ] && [ "$HA" = 0 ]; then
  log "starting the service on $BASE (log: $TK_SERVICE_LOG)"
  { echo; echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) scripts/run-local.sh start ==="; } >>"$TK_SERVICE_LOG"
  nohup "$BIN" >>"$TK_SERVICE_LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$TK_SERVICE_PID"
  wait_ready "$pid" "$BASE/readyz" "$TK_SERVICE_LOG"
  log "service ready"
  prom_targets+=("service=all=${TICKETING_OPS_HOST:-127.0.0.1}:$TICKETING_OPS_PORT")
  LOGS=$TK_SERVICE_LOG
elif [ "$PATTERN" = B ]; then
  # Every process does everything (pattern B); their background loops share the work through
  # PostgreSQL and Redis. Rate limits are each process's own.
  for i in $(seq "$API_COUNT"); do
    port=$((8080 + i)) ops=$((9090 + i))
    port_busy "$port" && die "port $port (service-$i) is in use; stop what holds it"
    start_role "service-$i" all "$port" "$ops" "${BEHIND_LB[@]}"
    lb_servers+=("service-$i=127.0.0.1:$port/$ops")
  done
  LOGS="$TK_PA_DIR/*.log"
else
  [ "$GATEWAY_COUNT" = 1 ] || command -v haproxy >/dev/null || die "haproxy not found (run scripts/deps.sh)"
  rabbitmq_up
  export TICKETING_AMQP_URL
  for i in $(seq "$WORKER_COUNT"); do
    start_role "worker-$i" worker 0 $((9190 + i))
  done
  # The API processes trust the gateways on loopback: X-Forwarded-For names the client.
  upstreams=""
  for i in $(seq "$API_COUNT"); do
    port=$((8080 + i)) ops=$((9090 + i))
    port_busy "$port" && die "port $port (api-$i) is in use; stop what holds it"
    start_role "api-$i" api "$port" "$ops" TICKETING_TRUSTED_PROXIES=127.0.0.1
    upstreams+="${upstreams:+,}127.0.0.1:$port"
  done
  if [ "$HA" = 0 ] && [ "$GATEWAY_COUNT" = 1 ]; then
    start_role gateway-1 gateway "$TICKETING_HTTP_PORT" 9291 TICKETING_GATEWAY_UPSTREAMS="$upstreams"
    log "gateway on $BASE in front of $API_COUNT API processes"
  else
    # Several gateways (or the HA front): HAProxy only spreads connections; the limits, polls and
    # forwarding are the gateways' (their rate limits are shared through Redis).
    for i in $(seq "$GATEWAY_COUNT"); do
      port=$((8180 + i)) ops=$((9290 + i))
      port_busy "$port" && die "port $port (gateway-$i) is in use; stop what holds it"
      start_role "gateway-$i" gateway "$port" "$ops" TICKETING_GATEWAY_UPSTREAMS="$upstreams" \
        "${BEHIND_LB[@]}"
      lb_servers+=("gateway-$i=127.0.0.1:$port/$ops")
    done
  fi
  if [ "$HA" = 0 ] && [ "$GATEWAY_COUNT" -gt 1 ]; then
    # Without --ha: a plain HTTP front on loopback in the service's place.
    ha_haproxy_cfg "$TK_PA_DIR/front.cfg" "$TICKETING_HTTP_HOST" "$TICKETING_HTTP_PORT" - "$TK_PA_DIR" \
      "${lb_servers[@]}" || die "haproxy rejected $TK_PA_DIR/front.cfg"
    ha_haproxy_start "$TK_PA_DIR/front.cfg" "$TK_PA_DIR"
    mv "$TK_PA_DIR/haproxy.pid" "$TK_PA_DIR/front.pid"
    wait_ready "$(cat "$TK_PA_DIR/front.pid")" "$BASE/readyz" "$TK_PA_DIR/haproxy.log"
    log "front ready on $BASE (HAProxy over $GATEWAY_COUNT gateways, $API_COUNT API processes)"
  fi
  LOGS="$TK_PA_DIR/*.log"
fi

if [ "$HA" = 1 ]; then
  ha_front_start "${lb_servers[@]}"
  BASE=https://localhost:$TK_EDGE_PORT
  export CURL_CA_BUNDLE=$TK_HA_DIR/tls/ca.crt
fi

# Prometheus (127.0.0.1:TK_PROM_PORT, 59090) over every process's operations listener, with
# deploy/prometheus/rules loaded; restarted on each run.
prom_up "${prom_targets[@]}"

# --- seed a demo event once ----------------------------------------------------------------------
# api METHOD PATH [BODY]: prints the response body; fails on a non-2xx status.
api() {
  local out code body data=()
  [ $# -lt 3 ] || data=(--data "$3")
  out=$(curl -sS --max-time 30 -X "$1" "$BASE$2" \
    -H "Authorization: Bearer $TICKETING_ADMIN_TOKEN" -H 'Content-Type: application/json' \
    "${data[@]}" -w '\n%{http_code}') || die "$1 $2: request failed"
  code=${out##*$'\n'} body=${out%$'\n'*}
  case $code in 2??) printf '%s\n' "$body" ;; *) die "$1 $2 -> HTTP $code: $body" ;; esac
}
# json EXPR: evaluates a Python expression on the JSON document read from stdin (as `d`).
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

events=$(api GET /v1/events)
if [ "$(printf '%s' "$events" | json 'len(d["events"])')" = 0 ]; then
  log "seeding the demo event"
  venue_body=$(python3 - <<'PY'
import json
sections = [{"name": name, "rows": [{"label": str(r), "seats": 20, "grade": grade}
                                    for r in range(1, 11)]}
            for name, grade in (("A", "VIP"), ("B", "R"), ("C", "S"))]
print(json.dumps({"name": "Olympic Hall", "sections": sections}))
PY
)
  venue_id=$(api POST /v1/admin/venues "$venue_body" | json 'd["id"]')
  event_id=$(api POST /v1/admin/events \
    "{\"title\":\"Demo Concert\",\"venue_id\":\"$venue_id\"}" | json 'd["id"]')
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  starts=$(date -u -d '+1 month' +%Y-%m-%dT%H:%M:%SZ)
  # KRW has no minor unit: price_cents 150000 means 150,000 won.
  perf_body=$(cat <<JSON
{"starts_at":"$starts","sale_opens_at":"$now","price_grades":[
  {"grade":"VIP","price_cents":150000,"currency":"KRW"},
  {"grade":"R","price_cents":120000,"currency":"KRW"},
  {"grade":"S","price_cents":90000,"currency":"KRW"}]}
JSON
)
  perf_id=$(api POST "/v1/admin/events/$event_id/performances" "$perf_body" | json 'd["id"]')
  api PATCH "/v1/admin/performances/$perf_id" '{"status":"on_sale"}' >/dev/null
  log "seeded: venue $venue_id, event $event_id, performance $perf_id (on sale)"
else
  log "events exist already; not seeding"
  events=$(api GET /v1/events)
  event_id=$(printf '%s' "$events" | json 'd["events"][0]["id"]')
  perf_id=$(printf '%s' "$events" | json '(d["events"][0].get("performances") or [{"id": "-"}])[0]["id"]')
fi

if [ "$HA" = 1 ]; then
  # Which node leads now, and each node's REST port (GET /cluster, /primary, /replica).
  pg_where="$TICKETING_PG_URL   (Patroni nodes and etcd in $TK_HA_PG)
$(bash tests/support/servers.sh patroni-status "$TK_HA_PG" | sed 's/^/                    /')"
  server_logs="$TK_HA_PG/node*/patroni.log, $TK_HA_REDIS/*/*.log"
else
  pg_where="$TICKETING_PG_URL   (data: $(pg_dir)/data)"
  server_logs="$(pg_dir)/postgres.log, $TK_REDIS_DIR/redis.log"
fi
cat <<EOF

Ticketing is running (pattern $PATTERN$( [ "$PATTERN" = A ] && echo ": $GATEWAY_COUNT gateway(s), $API_COUNT API processes, $WORKER_COUNT worker(s), RabbitMQ $TICKETING_AMQP_URL")$( [ "$HA" = 1 ] && [ "$PATTERN" = B ] && echo ": $API_COUNT service processes")$( [ "$HA" = 1 ] && echo "; HA front")).$(
  [ "$HA" = 1 ] && printf '\n  %-18s%s\n  %-18s%s\n  %-18s%s' \
    "Edge:" "$BASE  (nginx + ModSecurity/CRS, catalogue cache; logs in $TK_HA_DIR/edge/)" \
    "Balancer:" "https://localhost:$TK_LB_PORT  (HAProxy; admin socket $TK_HA_DIR/haproxy.sock)" \
    "Local CA:" "$TK_HA_DIR/tls/ca.crt  (curl --cacert it, or import it into the browser)")
  Web app:          $BASE/         (buyers; same origin as the API)
  Operator console: $BASE/admin    (log in with the admin token below)
  Base URL:         $BASE          (try: curl $BASE/v1/events)
  Admin token:      $TICKETING_ADMIN_TOKEN
                    (Authorization: Bearer <token> on /v1/admin/*; stored in $TK_SECRETS)
  Demo event:       $event_id
  Demo performance: $perf_id
  PostgreSQL:       $pg_where
  Redis:            $TICKETING_REDIS_URL   ($( [ "$HA" = 1 ] && echo "nodes and sentinels in $TK_HA_REDIS" || echo "data: $TK_REDIS_DIR"))
  Receipt e-mails:  $mailbox
  Prometheus:       http://127.0.0.1:$TK_PROM_PORT   (alerts: /alerts, targets: /targets; data in $TK_PROM_DIR)
  Logs:             $LOGS, $server_logs
Stop everything:    bash scripts/stop-local.sh      (add --wipe to delete .local data too)
EOF
