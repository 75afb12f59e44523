#!/usr/bin/env bash
# Black-box end-to-end test: drives a running service over HTTP through the whole contract
# (admin set-up -> sign up -> log in -> join -> poll -> seats -> hold -> order -> pay -> replay)
# and checks statuses and bodies. Usage: flow.sh BASE_URL ADMIN_TOKEN OPS_URL
# (OPS_URL: the operations listener, TICKETING_OPS_PORT). Expects TICKETING_RATE_PER_ADDRESS=20
# and the default sign-up and admin-failure limits: it ends by running into them.
set -uo pipefail
BASE=${1:?base url}; ADMIN=${2:?admin token}; OPS=${3:?operations url}
pass=0; fail=0
J() { python3 -c "import sys,json; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }
req() {  # method path [body] [extra curl args...] -> sets CODE, BODY, HDRS
  local m=$1 p=$2 b=${3:-}; shift 3 2>/dev/null || shift $#
  local out; out=$(mktemp)
  if [ -n "$b" ]; then
    CODE=$(curl -s -o "$out" -D "$out.h" -w '%{http_code}' -X "$m" "$BASE$p" -H 'Content-Type: application/json' --data-binary "$b" "$@")
  else
    CODE=$(curl -s -o "$out" -D "$out.h" -w '%{http_code}' -X "$m" "$BASE$p" "$@")
  fi
  BODY=$(cat "$out"); HDRS=$(cat "$out.h"); rm -f "$out" "$out.h"
}
check() {  # name expected actual
  if [ "$2" = "$3" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1: expected [$2] got [$3] body: ${BODY:0:300}"; fi
}
A=(-H "Authorization: Bearer $ADMIN")
now=$(date -u +%Y-%m-%dT%H:%M:%SZ); later=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)

# --- operator set-up
req POST /v1/admin/venues '{"name":"E2E Hall","sections":[{"name":"A","rows":[{"label":"1","seats":4,"grade":"VIP"},{"label":"2","seats":4,"grade":"R"}]}]}' "${A[@]}"
check "create venue" 201 "$CODE"; VENUE=$(echo "$BODY" | J 'd["id"]'); check "seat_count" 8 "$(echo "$BODY" | J 'd["seat_count"]')"
req POST /v1/admin/venues '{"name":"x","sections":[]}' "${A[@]}"; check "venue without sections" 400 "$CODE"
req POST /v1/admin/venues '{"name":"x"' "${A[@]}"; check "malformed json" 400 "$CODE"
check "malformed code" malformed_json "$(echo "$BODY" | J 'd["error"]["code"]')"
req POST /v1/admin/venues '{"name":"x","sections":[]}' -H "Authorization: Bearer wrong"; check "bad admin token" 401 "$CODE"
req POST /v1/admin/events "{\"title\":\"E2E Show\",\"venue_id\":\"$VENUE\"}" "${A[@]}"; check "create event" 201 "$CODE"
EVENT=$(echo "$BODY" | J 'd["id"]')
req POST /v1/admin/events/nope/performances '{}' "${A[@]}"; check "perf of unknown event" 400 "$CODE"
req POST "/v1/admin/events/$EVENT/performances" "{\"starts_at\":\"$later\",\"sale_opens_at\":\"$later\",\"price_grades\":[{\"grade\":\"VIP\",\"price_cents\":150000,\"currency\":\"KRW\"},{\"grade\":\"R\",\"price_cents\":90000,\"currency\":\"KRW\"}],\"max_seats_per_order\":2,\"hold_ttl_seconds\":120,\"queue\":{\"admit_per_interval\":10,\"interval_ms\":100}}" "${A[@]}"
check "create performance" 201 "$CODE"; PERF=$(echo "$BODY" | J 'd["id"]')
req POST "/v1/admin/events/$EVENT/performances" "{\"starts_at\":\"$later\",\"sale_opens_at\":\"$now\",\"price_grades\":[{\"grade\":\"VIP\",\"price_cents\":1,\"currency\":\"KRW\"}]}" "${A[@]}"
check "grade without price" 400 "$CODE"
req POST "/v1/admin/events/$EVENT/performances" "{\"starts_at\":\"$later\",\"sale_opens_at\":\"$now\",\"hold_ttl_seconds\":0,\"price_grades\":[{\"grade\":\"VIP\",\"price_cents\":1,\"currency\":\"KRW\"},{\"grade\":\"R\",\"price_cents\":1,\"currency\":\"KRW\"}]}" "${A[@]}"
check "hold ttl out of range" 422 "$CODE"; check "out_of_range code" out_of_range "$(echo "$BODY" | J 'd["error"]["code"]')"

# --- catalogue
req GET /v1/events; check "events" 200 "$CODE"
req GET "/v1/events/$EVENT"; check "event" 200 "$CODE"; check "event perf" "$PERF" "$(echo "$BODY" | J 'd["performances"][0]["id"]')"
check "scheduled" scheduled "$(echo "$BODY" | J 'd["performances"][0]["status"]')"
req GET "/v1/performances/$PERF"; check "performance" 200 "$CODE"; check "max per order" 2 "$(echo "$BODY" | J 'd["max_seats_per_order"]')"
hdr() { echo "$HDRS" | tr -d '\r' | awk -v k="$(echo "$1" | tr A-Z a-z)" 'BEGIN{FS=": "} tolower($1)==k {print $2}'; }
ETAG=$(hdr ETag); check "performance has an ETag" 1 "$([ -n "$ETAG" ] && echo 1)"
check "performance cacheable for seconds" "public, max-age=5" "$(hdr Cache-Control)"
req GET "/v1/performances/$PERF" "" -H "If-None-Match: $ETAG"; check "performance not modified" 304 "$CODE"
check "304 has no body" "" "$BODY"
req GET "/v1/venues/$VENUE/layout"; check "layout" 200 "$CODE"
check "layout immutable" "public, max-age=31536000, immutable" "$(hdr Cache-Control)"
SEATS=$(echo "$BODY" | J '",".join(s["id"] for sec in d["sections"] for r in sec["rows"] for s in r["seats"])')
S1=$(echo "$SEATS" | cut -d, -f1); S2=$(echo "$SEATS" | cut -d, -f2); S3=$(echo "$SEATS" | cut -d, -f3)
req GET /v1/events/unknown; check "unknown event" 404 "$CODE"
req GET /v1/nothing/here; check "unknown path" 404 "$CODE"

# --- identity
EMAIL="buyer$RANDOM$RANDOM@example.com"
req POST /v1/accounts "{\"email\":\"$EMAIL\",\"password\":\"correct horse\",\"name\":\"Kim\"}"; check "sign up" 201 "$CODE"
req POST /v1/accounts "{\"email\":\"$EMAIL\",\"password\":\"correct horse\",\"name\":\"Kim\"}"; check "email taken" 409 "$CODE"
req POST /v1/accounts '{"email":"x@example.com","password":123,"name":"K"}'; check "wrong type" 400 "$CODE"
req POST /v1/sessions "{\"email\":\"$EMAIL\",\"password\":\"wrong pass\",\"password\":\"correct horse\"}"
check "duplicate key" 400 "$CODE"; check "duplicate key code" invalid_field "$(echo "$BODY" | J 'd["error"]["code"]')"
req POST /v1/sessions "{\"email\":\"$EMAIL\",\"password\":\"wrong pass\"}"; check "bad password" 401 "$CODE"
req POST /v1/sessions "{\"email\":\"$EMAIL\",\"password\":\"correct horse\"}"; check "log in" 201 "$CODE"
TOKEN=$(echo "$BODY" | J 'd["session_token"]'); U=(-H "Authorization: Bearer $TOKEN")
req GET /v1/me "" "${U[@]}"; check "me" 200 "$CODE"
req GET /v1/me "" -H "Authorization: Bearer ${TOKEN}x"; check "forged session" 401 "$CODE"

# --- waiting room
req POST "/v1/performances/$PERF/queue" "" "${U[@]}"; check "join before sale" 422 "$CODE"
check "sale_not_open" sale_not_open "$(echo "$BODY" | J 'd["error"]["code"]')"
req PATCH "/v1/admin/performances/$PERF" '{"status":"on_sale"}' "${A[@]}"; check "open sale" 200 "$CODE"
# Another process (pattern A: several API processes) sees the sale open after its catalogue
# refresh, within a second; a refused join changes nothing, so it is simply asked again (the
# second join may reach a process that has not refreshed yet, too).
join() {
  for _ in $(seq 30); do
    req POST "/v1/performances/$PERF/queue" "" "${U[@]}"
    [ "$CODE" = 422 ] && [ "$(echo "$BODY" | J 'd["error"]["code"]')" = sale_not_open ] || break
    sleep 0.1
  done
}
join; check "join" 201 "$CODE"; check "join says when to poll" 1 "$(echo "$HDRS" | grep -ci "^retry-after: [1-9]")"
TICKET=$(echo "$BODY" | J 'd["ticket"]'); check "position" 1 "$(echo "$BODY" | J 'd["position"]')"
join; check "join again" 200 "$CODE"; check "same ticket" "$TICKET" "$(echo "$BODY" | J 'd["ticket"]')"
req GET "/v1/performances/$PERF/queue/status" "" -H "Queue-Ticket: ${TICKET}x"; check "forged ticket" 401 "$CODE"
ACCESS=""
for _ in $(seq 50); do
  req GET "/v1/performances/$PERF/queue/status" "" -H "Queue-Ticket: $TICKET"
  st=$(echo "$BODY" | J 'd["state"]')
  if [ "$st" = admitted ]; then ACCESS=$(echo "$BODY" | J 'd["access_token"]'); break; fi
  sleep 0.1
done
check "admitted" admitted "$st"; check "retry-after present" 1 "$(echo "$HDRS" | grep -ci '^retry-after:')"

# --- the admission log (public): a hash chain whose first entry admitted position 1
req GET "/v1/performances/$PERF/queue/audit"; check "admission log" 200 "$CODE"
check "admission log: position 1 admitted" 1 \
  "$(echo "$BODY" | J 'sum(1 for e in d["entries"] if e["from_position"] < 1 <= e["to_position"])')"
check "admission log: the chain starts at zero" "$(printf '0%.0s' $(seq 64))" \
  "$(echo "$BODY" | J 'd["entries"][0]["prev_hash"]')"
req GET "/v1/performances/$PERF/queue/audit?after=x"; check "admission log: after=x" 400 "$CODE"
req GET "/v1/performances/$PERF/queue/audit?after=-1"; check "admission log: after=-1" 400 "$CODE"
req GET "/v1/performances/prf_nope/queue/audit"; check "admission log: unknown performance" 404 "$CODE"

# --- seats and holds
req GET "/v1/performances/$PERF/seats" "" "${U[@]}"; check "seats without access" 403 "$CODE"
Z=(-H "Access-Token: $ACCESS")
req GET "/v1/performances/$PERF/seats" "" "${U[@]}" "${Z[@]}"; check "seats" 200 "$CODE"
check "all available" 8 "$(echo "$BODY" | J 'sum(1 for s in d["seats"] if s["state"]=="available")')"
req POST "/v1/performances/$PERF/holds" "{\"seat_ids\":[\"$S1\",\"$S2\",\"$S3\"]}" "${U[@]}" "${Z[@]}"; check "too many seats" 422 "$CODE"
req POST "/v1/performances/$PERF/holds" "{\"seat_ids\":[\"$S1\",\"$S1\"]}" "${U[@]}" "${Z[@]}"; check "duplicate seats" 400 "$CODE"
req POST "/v1/performances/$PERF/holds" '{"seat_ids":["st_nope"]}' "${U[@]}" "${Z[@]}"; check "invalid seats" 422 "$CODE"
req POST "/v1/performances/$PERF/holds" "{\"seat_ids\":[\"$S1\",\"$S2\"]}" "${U[@]}" "${Z[@]}"; check "hold" 201 "$CODE"
HOLD=$(echo "$BODY" | J 'd["hold_id"]')
req GET "/v1/performances/$PERF/seats" "" "${U[@]}" "${Z[@]}"
check "two held" 2 "$(echo "$BODY" | J 'sum(1 for s in d["seats"] if s["state"]=="held")')"
req GET "/v1/admin/performances/$PERF/stats" "" "${A[@]}"
check "stats while held" "1 2 0 6" "$(echo "$BODY" | J '" ".join(str(x) for x in [d["holds_active"], d["seats"]["held"], d["seats"]["sold"], d["seats"]["available"]])')"
# --- sections: the summary, one section's seats, bad section names
req GET "/v1/performances/$PERF/sections" "" "${U[@]}"; check "sections without access" 403 "$CODE"
req GET "/v1/performances/$PERF/sections" "" "${U[@]}" "${Z[@]}"; check "sections" 200 "$CODE"
check "section summary" "A 8 6 2 0 VIP,R" "$(echo "$BODY" | J '" ".join(str(x) for x in [d["sections"][0][k] for k in ("name","seats","available","held","sold")] + [",".join(d["sections"][0]["grades"])])')"
req GET "/v1/performances/$PERF/seats?section=A" "" "${U[@]}" "${Z[@]}"; check "one section" 200 "$CODE"
check "section seats, two held" "A 8 2" "$(echo "$BODY" | J '" ".join([d["section"], str(len(d["seats"])), str(sum(1 for s in d["seats"] if s["state"]=="held"))])')"
req GET "/v1/performances/$PERF/seats?section=Z%20Z" "" "${U[@]}" "${Z[@]}"; check "unknown section" 404 "$CODE"
check "unknown section named" "Z Z" "$(echo "$BODY" | J 'd["error"]["details"]["section"]')"
req GET "/v1/performances/$PERF/seats?section=" "" "${U[@]}" "${Z[@]}"; check "empty section" 400 "$CODE"
req GET "/v1/performances/$PERF/seats?section=A&section=B" "" "${U[@]}" "${Z[@]}"; check "repeated section" 400 "$CODE"

# --- order and payment
req POST /v1/orders "{\"hold_id\":\"$HOLD\"}" "${U[@]}"; check "order" 201 "$CODE"; ORDER=$(echo "$BODY" | J 'd["id"]')
check "total" 300000 "$(echo "$BODY" | J 'd["total_cents"]')"
req POST /v1/orders "{\"hold_id\":\"$HOLD\"}" "${U[@]}"; check "same order" 200 "$CODE"; check "same order id" "$ORDER" "$(echo "$BODY" | J 'd["id"]')"
# Another buyer paying this order finds none, and that changes nothing: no attempt is left in
# progress on the order (the owner's payments below would be refused while one is).
EMAIL_O="other$RANDOM$RANDOM@example.com"
req POST /v1/accounts "{\"email\":\"$EMAIL_O\",\"password\":\"correct horse\",\"name\":\"Oh\"}"
req POST /v1/sessions "{\"email\":\"$EMAIL_O\",\"password\":\"correct horse\"}"; UO=(-H "Authorization: Bearer $(echo "$BODY" | J 'd["session_token"]')")
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_ok"}' "${UO[@]}" -H "Idempotency-Key: k-foreign"
check "another buyer's order" 404 "$CODE"; check "another buyer's order: not_found" not_found "$(echo "$BODY" | J 'd["error"]["code"]')"
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_ok"}' "${U[@]}"; check "missing idempotency key" 400 "$CODE"
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_bad"}' "${U[@]}" -H "Idempotency-Key: k-decline"; check "declined" 402 "$CODE"
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_bad"}' "${U[@]}" -H "Idempotency-Key: k-decline"; check "decline replayed" 402 "$CODE"
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_ok"}' "${U[@]}" -H "Idempotency-Key: k-1"; check "paid" 200 "$CODE"
PAID="$BODY"; check "status paid" paid "$(echo "$BODY" | J 'd["status"]')"; check "two tickets" 2 "$(echo "$BODY" | J 'len(d["tickets"])')"
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_ok"}' "${U[@]}" -H "Idempotency-Key: k-1"; check "replay" 200 "$CODE"; check "identical replay" "$PAID" "$BODY"
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_other"}' "${U[@]}" -H "Idempotency-Key: k-1"; check "key reused" 409 "$CODE"
req POST "/v1/orders/$ORDER/payment" '{"method":"card","card_token":"tok_ok"}' "${U[@]}" -H "Idempotency-Key: k-2"; check "already paid" 409 "$CODE"
check "order_already_paid" order_already_paid "$(echo "$BODY" | J 'd["error"]["code"]')"
req GET "/v1/orders/$ORDER" "" "${U[@]}"; check "get order" 200 "$CODE"; check "order paid" paid "$(echo "$BODY" | J 'd["status"]')"
req GET /v1/me/orders "" "${U[@]}"; check "my orders" 1 "$(echo "$BODY" | J 'len(d["orders"])')"
req GET "/v1/performances/$PERF/seats" "" "${U[@]}" "${Z[@]}"
check "two sold" 2 "$(echo "$BODY" | J 'sum(1 for s in d["seats"] if s["state"]=="sold")')"
req POST "/v1/performances/$PERF/holds" "{\"seat_ids\":[\"$S1\"]}" "${U[@]}" "${Z[@]}"; check "sold seat cannot be held" 422 "$CODE"
check "limit reached (2 bought)" seat_limit_reached "$(echo "$BODY" | J 'd["error"]["code"]')"

# --- e-tickets and check-in at the door
TKT=$(echo "$PAID" | J 'd["tickets"][0]["id"]'); CODE1=$(echo "$PAID" | J 'd["tickets"][0]["code"]')
check "ticket status in payment" valid "$(echo "$PAID" | J 'd["tickets"][0]["status"]')"
req GET /v1/checkin/keys; check "checkin keys" 200 "$CODE"
check "key alg" Ed25519 "$(echo "$BODY" | J 'd["keys"][0]["alg"]')"
check "key kid is the code's" "$(echo "$CODE1" | cut -d. -f1)" "$(echo "$BODY" | J 'd["keys"][0]["kid"]')"
out=$(mktemp); pdf_code=$(curl -s -o "$out" -w '%{http_code} %{content_type}' "$BASE/v1/tickets/$TKT/pdf" "${U[@]}")
check "ticket pdf" "200 application/pdf" "$pdf_code"; check "pdf magic" "%PDF-" "$(head -c 5 "$out")"; rm -f "$out"
req GET "/v1/tickets/$TKT/pdf"; check "pdf without session" 401 "$CODE"
req GET "/v1/tickets/tkt_nope/pdf" "" "${U[@]}"; check "pdf of unknown ticket" 404 "$CODE"
req POST "/v1/admin/performances/$PERF/door-tokens" '{}' "${A[@]}"; check "door token" 201 "$CODE"; DOOR=$(echo "$BODY" | J 'd["token"]')
req POST "/v1/admin/performances/$PERF/door-tokens" '{"ttl_seconds":5}' "${A[@]}"; check "door token ttl out of range" 422 "$CODE"
req POST "/v1/admin/performances/prf_nope/door-tokens" '{}' "${A[@]}"; check "door token unknown performance" 404 "$CODE"
req POST "/v1/admin/performances/$PERF/door-tokens" '{}'; check "door token without admin" 401 "$CODE"
D=(-H "Authorization: Bearer $DOOR")
req POST /v1/admin/checkin "{\"code\":\"$CODE1\"}"; check "checkin without credential" 401 "$CODE"
req POST /v1/admin/checkin '{"code":""}' "${D[@]}"; check "checkin empty code" 400 "$CODE"
req POST /v1/admin/checkin '{"code":"e1.AAAA.BBBB"}' "${D[@]}"; check "checkin forged code" 404 "$CODE"
req POST /v1/admin/checkin "{\"code\":\"$CODE1\"}" "${D[@]}"; check "first scan" 200 "$CODE"; AT=$(echo "$BODY" | J 'd["checked_in_at"]')
check "first scan ticket" "$TKT" "$(echo "$BODY" | J 'd["ticket_id"]')"
req POST /v1/admin/checkin "{\"code\":\"$CODE1\"}" "${A[@]}"; check "second scan" 409 "$CODE"
check "already_checked_in" already_checked_in "$(echo "$BODY" | J 'd["error"]["code"]')"; check "first scan time" "$AT" "$(echo "$BODY" | J 'd["error"]["details"]["checked_in_at"]')"
req GET "/v1/orders/$ORDER" "" "${U[@]}"; check "ticket checked in on the order" "checked_in $AT" "$(echo "$BODY" | J '" ".join([[t["status"], t.get("checked_in_at", "")] for t in d["tickets"] if t["id"] == "'"$TKT"'"][0])')"
# --- refunds: a checked-in ticket makes the order not refundable, for the operator too
req POST "/v1/orders/$ORDER/refund" "" "${U[@]}"; check "refund without Idempotency-Key" 400 "$CODE"
req POST "/v1/orders/$ORDER/refund" "" "${U[@]}" -H "Idempotency-Key: rf-1"; check "refund after check-in" 409 "$CODE"
check "not_refundable" not_refundable "$(echo "$BODY" | J 'd["error"]["code"]')"
req POST "/v1/admin/orders/$ORDER/refund" "" "${A[@]}" -H "Idempotency-Key: rf-2"; check "operator refund after check-in" 409 "$CODE"
req GET "/v1/performances/$PERF" ""; check "performance has refundable_until" 1 "$(echo "$BODY" | J 'int("refundable_until" in d)')"

# --- another buyer: sold seats are unavailable, release works
# --- proof of work: a sale that asks for one refuses joins without it, with clear codes
EMAIL3="third$RANDOM$RANDOM@example.com"
req POST /v1/accounts "{\"email\":\"$EMAIL3\",\"password\":\"correct horse\",\"name\":\"Park\"}"
req POST /v1/sessions "{\"email\":\"$EMAIL3\",\"password\":\"correct horse\"}"; T3=$(echo "$BODY" | J 'd["session_token"]'); U3=(-H "Authorization: Bearer $T3")
req PATCH "/v1/admin/performances/$PERF" '{"queue":{"pow_difficulty":33}}' "${A[@]}"; check "pow difficulty out of range" 422 "$CODE"
req PATCH "/v1/admin/performances/$PERF" '{"queue":{"pow_difficulty":8}}' "${A[@]}"
check "pow difficulty set" 8 "$(echo "$BODY" | J 'd["queue"]["pow_difficulty"]')"
for _ in $(seq 30); do  # several processes (pattern A) each see the change at their next refresh
  req POST "/v1/performances/$PERF/queue" "" "${U3[@]}"; [ "$CODE" = 422 ] && break; sleep 0.1
done
sleep 1.5  # and by now every one has
req POST "/v1/performances/$PERF/queue" "" "${U3[@]}"
check "join without a proof of work" "422 challenge_required" "$CODE $(echo "$BODY" | J 'd["error"]["code"]')"
req GET "/v1/performances/$PERF/queue/challenge" "" "${U3[@]}"; check "challenge" 200 "$CODE"
CH=$(echo "$BODY" | J 'd["challenge"]'); check "challenge difficulty" 8 "$(echo "$BODY" | J 'd["difficulty"]')"
pow() {  # challenge difficulty want(1: a solving nonce, 0: one that does not solve)
  python3 -c '
import hashlib, sys
c, d, want = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
for i in range(1, 10**7):
    h = int.from_bytes(hashlib.sha256((c + str(i)).encode()).digest(), "big")
    if (h >> (256 - d) == 0) == want:
        print(i); break' "$@"
}
req POST "/v1/performances/$PERF/queue" "{\"pow\":{\"challenge\":\"$CH\",\"nonce\":\"$(pow "$CH" 8 0)\"}}" "${U3[@]}"
check "a wrong nonce" "422 challenge_invalid" "$CODE $(echo "$BODY" | J 'd["error"]["code"]')"
NONCE=$(pow "$CH" 8 1)
req POST "/v1/performances/$PERF/queue" "{\"pow\":{\"challenge\":\"$CH\",\"nonce\":\"$NONCE\"}}" "${U3[@]}"
check "join with a proof of work" 1 "$([ "$CODE" = 201 ] || [ "$CODE" = 200 ]; echo $((1 - $?)))"
TICKET3=$(echo "$BODY" | J 'd.get("ticket","")')
req POST "/v1/performances/$PERF/queue" "{\"pow\":{\"challenge\":\"$CH\",\"nonce\":\"$NONCE\"}}" "${U3[@]}"
check "a proof used twice" "422 challenge_invalid" "$CODE $(echo "$BODY" | J 'd["error"]["code"]')"
req POST "/v1/performances/$PERF/queue" "" "${U3[@]}" -H "Queue-Ticket: $TICKET3"; check "with its ticket, no proof needed" 200 "$CODE"
req PATCH "/v1/admin/performances/$PERF" '{"queue":{"pow_difficulty":0}}' "${A[@]}"; check "pow off" 200 "$CODE"
sleep 1.5  # every process sees it off before the next joins

# --- pre-queue: joins before the opening wait unordered; at the opening they are drawn in the
# order of the seed committed to beforehand, and anyone can check it (tools/verify_prequeue.py).
# Times far enough ahead for a loaded machine; the operator then moves the pre-queue's opening
# close, and opens the sale early.
qopen=$(date -u -d '+5 minutes' +%Y-%m-%dT%H:%M:%SZ); sopen=$(date -u -d '+10 minutes' +%Y-%m-%dT%H:%M:%SZ)
req POST "/v1/admin/events/$EVENT/performances" "{\"starts_at\":\"$later\",\"sale_opens_at\":\"$sopen\",\"queue_opens_at\":\"$sopen\",\"price_grades\":[{\"grade\":\"VIP\",\"price_cents\":1,\"currency\":\"KRW\"},{\"grade\":\"R\",\"price_cents\":1,\"currency\":\"KRW\"}]}" "${A[@]}"
check "pre-queue opening at the sale" "400 queue_opens_at" "$CODE $(echo "$BODY" | J 'd["error"]["details"]["field"]')"
req POST "/v1/admin/events/$EVENT/performances" "{\"starts_at\":\"$later\",\"sale_opens_at\":\"$sopen\",\"queue_opens_at\":\"$qopen\",\"price_grades\":[{\"grade\":\"VIP\",\"price_cents\":1,\"currency\":\"KRW\"},{\"grade\":\"R\",\"price_cents\":1,\"currency\":\"KRW\"}]}" "${A[@]}"
check "create a sale with a pre-queue" 201 "$CODE"; PRE=$(echo "$BODY" | J 'd["id"]')
req GET "/v1/performances/$PRE"; check "queue_opens_at published" "$qopen" "$(echo "$BODY" | J 'd["queue_opens_at"]')"
req GET "/v1/performances/$PRE/queue/fairness"; check "fairness before the pre-queue" 200 "$CODE"
COMMIT=$(echo "$BODY" | J 'd["seed_commitment"]'); check "seed hidden before the draw" None "$(echo "$BODY" | J 'd["seed"]')"
check "shuffle named" sha256-ctr-fisher-yates-v1 "$(echo "$BODY" | J 'd["shuffle"]')"
req POST "/v1/performances/$PRE/queue" "" "${U3[@]}"; check "join before the pre-queue opens" "422 sale_not_open" "$CODE $(echo "$BODY" | J 'd["error"]["code"]')"
req PATCH "/v1/admin/performances/$PRE" "{\"queue_opens_at\":\"$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)\"}" "${A[@]}"
check "pre-queue opening moved closer" 200 "$CODE"
for _ in $(seq 150); do  # until the pre-queue opens, in every process (a few seconds)
  req POST "/v1/performances/$PRE/queue" "" "${U3[@]}"; [ "$CODE" = 201 ] && break; sleep 0.1
done
check "pre-queue join" "201 pre_queue None" "$CODE $(echo "$BODY" | J 'd["state"]') $(echo "$BODY" | J 'd["position"]')"
PTICKET=$(echo "$BODY" | J 'd["ticket"]'); ENTRY=$(echo "$BODY" | J 'd["entry_id"]')
req POST "/v1/performances/$PRE/queue" "" "${U3[@]}"; check "pre-queue join again: the same ticket" "200 $PTICKET" "$CODE $(echo "$BODY" | J 'd["ticket"]')"
req GET "/v1/performances/$PRE/queue/status" "" -H "Queue-Ticket: $PTICKET"
check "pre-queue status" "pre_queue $ENTRY" "$(echo "$BODY" | J 'd["state"]') $(echo "$BODY" | J 'd["entry_id"]')"
req GET "/v1/performances/$PRE/queue/fairness/entries"; check "entries not final before the draw" False "$(echo "$BODY" | J 'd["complete"]')"
req PATCH "/v1/admin/performances/$PRE" '{"status":"on_sale"}' "${A[@]}"; check "sale opened early" 200 "$CODE"
for _ in $(seq 150); do  # until every process sees the sale open and the pre-queue is drawn
  req GET "/v1/performances/$PRE/queue/status" "" -H "Queue-Ticket: $PTICKET"
  [ "$(echo "$BODY" | J 'd["position"]')" != None ] && break; sleep 0.1
done
PPOS=$(echo "$BODY" | J 'd["position"]'); check "drawn into position 1 of 1" 1 "$PPOS"
sleep 1.1  # the fairness answer is kept a second
req GET "/v1/performances/$PRE/queue/fairness"; check "seed revealed" 64 "$(echo "$BODY" | J 'len(d["seed"] or "")')"
VERIFY=$(python3 "$(dirname "$0")/../../tools/verify_prequeue.py" --url "$BASE" --performance "$PRE" --commitment "$COMMIT" --entry "$ENTRY" --position "$PPOS" 2>&1); vrc=$?
check "the draw verifies" 0 "$vrc"; [ "$vrc" = 0 ] || echo "$VERIFY"
EMAIL2="second$RANDOM$RANDOM@example.com"
req POST /v1/accounts "{\"email\":\"$EMAIL2\",\"password\":\"correct horse\",\"name\":\"Lee\"}"
req POST /v1/sessions "{\"email\":\"$EMAIL2\",\"password\":\"correct horse\"}"; T2=$(echo "$BODY" | J 'd["session_token"]'); U2=(-H "Authorization: Bearer $T2")
req POST "/v1/performances/$PERF/queue" "" "${U2[@]}"; TICKET2=$(echo "$BODY" | J 'd["ticket"]'); check "third position (after the proof-of-work buyer)" 3 "$(echo "$BODY" | J 'd["position"]')"
for _ in $(seq 50); do
  req GET "/v1/performances/$PERF/queue/status" "" -H "Queue-Ticket: $TICKET2"
  [ "$(echo "$BODY" | J 'd["state"]')" = admitted ] && break; sleep 0.1
done
ACCESS2=$(echo "$BODY" | J 'd.get("access_token","")'); Z2=(-H "Access-Token: $ACCESS2")
req GET "/v1/performances/$PERF/seats" "" "${U2[@]}" "${Z[@]}"; check "other buyer's access token" 403 "$CODE"
req POST "/v1/performances/$PERF/holds" "{\"seat_ids\":[\"$S1\",\"$S3\"]}" "${U2[@]}" "${Z2[@]}"; check "sold seat unavailable" 409 "$CODE"
check "names the seat" "$S1" "$(echo "$BODY" | J 'd["error"]["details"]["seat_ids"][0]')"
req POST "/v1/performances/$PERF/holds" "{\"seat_ids\":[\"$S3\"]}" "${U2[@]}" "${Z2[@]}"; check "hold S3" 201 "$CODE"; H2=$(echo "$BODY" | J 'd["hold_id"]')
req DELETE "/v1/holds/$H2" "" "${U[@]}"; check "not the owner" 404 "$CODE"
req DELETE "/v1/holds/$H2" "" "${U2[@]}"; check "release" 204 "$CODE"
req GET "/v1/performances/$PERF/seats" "" "${U2[@]}" "${Z2[@]}"
check "released seat available" available "$(echo "$BODY" | J "[s['state'] for s in d['seats'] if s['id']=='$S3'][0]")"
# --- best available: the server chooses; bad requests change nothing
req POST "/v1/performances/$PERF/holds" "{\"seat_ids\":[\"$S3\"],\"best_available\":{\"count\":1}}" "${U2[@]}" "${Z2[@]}"; check "best available and seat_ids" 400 "$CODE"
req POST "/v1/performances/$PERF/holds" '{"best_available":{"count":0}}' "${U2[@]}" "${Z2[@]}"; check "best available: count 0" 400 "$CODE"
req POST "/v1/performances/$PERF/holds" '{"best_available":{"count":1,"grade":"nope"}}' "${U2[@]}" "${Z2[@]}"; check "best available: unknown grade" 400 "$CODE"
req POST "/v1/performances/$PERF/holds" '{"best_available":{"count":3}}' "${U2[@]}" "${Z2[@]}"; check "best available: more than an order" 422 "$CODE"
req POST "/v1/performances/$PERF/holds" '{"best_available":{"count":2}}' "${U2[@]}" "${Z2[@]}"; check "best available" 201 "$CODE"
H3=$(echo "$BODY" | J 'd["hold_id"]'); BEST=$(echo "$BODY" | J '",".join(d["seat_ids"])')
check "best available: two seats, none sold" 2 "$(echo "$BEST" | tr ',' '\n' | grep -cvx -e "$S1" -e "$S2")"
req GET "/v1/performances/$PERF/seats" "" "${U2[@]}" "${Z2[@]}"
check "best available: both held" 2 "$(echo "$BODY" | J "sum(1 for s in d['seats'] if s['id'] in '$BEST'.split(',') and s['state']=='held')")"
req DELETE "/v1/holds/$H3" "" "${U2[@]}"; check "best available: release" 204 "$CODE"
# --- waiting list: only after sell-out; bad requests change nothing
req POST "/v1/performances/$PERF/waitlist" '{"count":1}'; check "waitlist: no session" 401 "$CODE"
req POST "/v1/performances/$PERF/waitlist" '{"count":0}' "${U2[@]}"; check "waitlist: count 0" 400 "$CODE"
req POST "/v1/performances/$PERF/waitlist" '{"count":3}' "${U2[@]}"; check "waitlist: more than an order" 422 "$CODE"
req POST "/v1/performances/$PERF/waitlist" '{"count":1}' "${U2[@]}"; check "waitlist: seats still free" 409 "$CODE"
check "waitlist: not sold out code" not_sold_out "$(echo "$BODY" | J 'd["error"]["code"]')"
req GET "/v1/performances/$PERF/waitlist/me" "" "${U2[@]}"; check "waitlist: not on it" 422 "$CODE"
check "waitlist: not on it code" not_on_waitlist "$(echo "$BODY" | J 'd["error"]["code"]')"
req DELETE "/v1/performances/$PERF/waitlist" "" "${U2[@]}"; check "waitlist: leave, not on it" 422 "$CODE"

# --- limits and operations
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
req POST /v1/accounts "{\"email\":\"$big\"}"; check "body too large" 413 "$CODE"
req GET /v1/events "" -H "X-Big: $(head -c 17000 /dev/zero | tr '\0' 'b')"; check "headers too large" 431 "$CODE"
req GET "/v1/admin/performances/$PERF/stats" "" "${A[@]}"; check "stats" 200 "$CODE"
check "stats sold" 2 "$(echo "$BODY" | J 'd["seats"]["sold"]')"; check "orders paid" 1 "$(echo "$BODY" | J 'd["orders_paid"]')"
req GET /metrics; check "no metrics on the public port" 404 "$CODE"
req GET /healthz; check "healthz" 200 "$CODE"
req GET /readyz; check "readyz" 200 "$CODE"
BASE_PUBLIC=$BASE; BASE=$OPS
req GET /metrics; check "metrics" 200 "$CODE"; check "metrics has requests" 1 "$(echo "$BODY" | grep -c '^# TYPE http_requests_total')"
req GET /healthz; check "ops healthz" 200 "$CODE"
req GET /readyz; check "ops readyz" 200 "$CODE"
req GET /v1/events; check "no API on the operations port" 404 "$CODE"
BASE=$BASE_PUBLIC
req DELETE /v1/sessions/current "" "${U[@]}"; check "log out" 204 "$CODE"
req GET /v1/me "" "${U[@]}"; check "session gone" 401 "$CODE"

# --- per-address limits (last: they leave this address limited)
burst() {  # path count -> 1 when a 429 came back within `count` requests, stopping at the
  # first (one keep-alive connection, no pauses). Generous: a loaded machine answers slowly and
  # the bucket refills meanwhile; any rate well above the limit must still run into it.
  python3 - "$BASE" "$1" "$2" <<'PY'
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = (http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection)(u.hostname, u.port)
limited = 0
for _ in range(int(sys.argv[3])):
    c.request("GET", sys.argv[2]); r = c.getresponse(); r.read()
    if r.status == 429:
        limited = 1
        break
print(limited)
PY
}
# A page no cache in front keeps (a CDN answers cached catalogue pages without asking the service).
check "public routes limited per address" 1 "$(burst /v1/events/no-such-event 400)"
codes=""; for i in $(seq 12); do
  req POST /v1/accounts "{\"email\":\"many$i$RANDOM@example.com\",\"password\":\"correct horse\",\"name\":\"M\"}"
  codes="$codes $CODE"
done
check "sign-ups limited per address" 1 "$(echo "$codes" | grep -q 429 && echo 1)"
# 10 wrong guesses a minute per address: the 11th is refused unless the bucket refilled while a
# loaded machine sent them (one guess every 6 s), so guess until refused, at most 30 times.
for i in $(seq 30); do
  req GET "/v1/admin/performances/$PERF" "" -H "Authorization: Bearer guess$i"
  [ "$CODE" = 429 ] && break
done
check "admin token guesses limited" "429" "$CODE"
req GET "/v1/admin/performances/$PERF" "" "${A[@]}"; check "locked out even with the token" 429 "$CODE"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
