#!/usr/bin/env bash
# Sets up and runs the whole system on this machine: installs packages, builds the service,
# starts PostgreSQL, Redis and a local SMTP sink under .local/ (only if not running yet),
# (re)starts the service with the fresh build, seeds a demo event once, and prints where to go.
# Safe to run again.
# Stop everything with: bash scripts/stop-local.sh
#
# Overrides (environment): TK_PG_PORT (55432), TK_REDIS_PORT (56379), TICKETING_HTTP_PORT (8080),
# TK_SMTP_PORT (52525), TICKETING_HTTP_HOST (127.0.0.1), any other TICKETING_* setting (a
# TICKETING_SMTP_URL given here is used instead of the local sink); TK_NO_SERVICE=1 only starts the
# databases (no build, service or seed).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TK_ROOT"

bash scripts/deps.sh
[ "${TK_NO_SERVICE:-0}" = 1 ] || bash scripts/build.sh release
# The web front-end (npm ci when needed + vite build into web/dist), served by the service.
[ "${TK_NO_SERVICE:-0}" = 1 ] || bash web/scripts/setup.sh "$TK_ROOT/web/dist"

prepare_dirs
ensure_secrets
pg_start
redis_start
# Receipt e-mails go to a local sink unless TICKETING_SMTP_URL names a real server.
[ -n "${TICKETING_SMTP_URL:-}" ] || smtp_start

if [ "${TK_NO_SERVICE:-0}" = 1 ]; then
  log "TK_NO_SERVICE=1: databases up (PostgreSQL 127.0.0.1:$TK_PG_PORT, Redis 127.0.0.1:$TK_REDIS_PORT)"
  exit 0
fi

BIN=$TK_ROOT/build/release/src/main/ticketing
[ -x "$BIN" ] || die "service binary $BIN not found after the build"

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

service_stop
if port_busy "$TICKETING_HTTP_PORT"; then
  die "port $TICKETING_HTTP_PORT is already in use by another program; set TICKETING_HTTP_PORT"
fi
log "starting the service on http://$TICKETING_HTTP_HOST:$TICKETING_HTTP_PORT (log: $TK_SERVICE_LOG)"
{ echo; echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) scripts/run-local.sh start ==="; } >>"$TK_SERVICE_LOG"
nohup "$BIN" >>"$TK_SERVICE_LOG" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$TK_SERVICE_PID"

BASE=http://$TICKETING_HTTP_HOST:$TICKETING_HTTP_PORT
ready=0
for _ in $(seq 120); do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 40 "$TK_SERVICE_LOG" >&2
    die "the service exited during start-up (log above, full log in $TK_SERVICE_LOG)"
  fi
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/readyz" || true)" = 200 ]; then
    ready=1; break
  fi
  sleep 0.5
done
if [ $ready != 1 ]; then
  tail -n 40 "$TK_SERVICE_LOG" >&2
  die "GET $BASE/readyz did not answer 200 within 60 s (log above, full log in $TK_SERVICE_LOG)"
fi
log "service ready"

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

cat <<EOF

Ticketing is running.
  Web app:          $BASE/         (buyers; same origin as the API)
  Operator console: $BASE/admin    (log in with the admin token below)
  Base URL:         $BASE          (try: curl $BASE/v1/events)
  Admin token:      $TICKETING_ADMIN_TOKEN
                    (Authorization: Bearer <token> on /v1/admin/*; stored in $TK_SECRETS)
  Demo event:       $event_id
  Demo performance: $perf_id
  PostgreSQL:       $TICKETING_PG_URL   (data: $(pg_dir)/data)
  Redis:            $TICKETING_REDIS_URL   (data: $TK_REDIS_DIR)
  Receipt e-mails:  $mailbox
  Logs:             $TK_SERVICE_LOG, $(pg_dir)/postgres.log, $TK_REDIS_DIR/redis.log
Stop everything:    bash scripts/stop-local.sh      (add --wipe to delete .local data too)
EOF
