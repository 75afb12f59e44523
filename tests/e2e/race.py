#!/usr/bin/env python3
"""Black-box race: N buyers race for M seats through the HTTP API; optionally Redis is flushed
mid-race, or (failover) the Redis primary behind Sentinel is killed with -9 mid-race and a replica
takes over. Afterwards PostgreSQL, Redis and the fake provider's ledger must agree: every seat sold
exactly once, one charge per paid order, no charge without a paid order or a void.
Usage: race.py BASE_URL ADMIN_TOKEN PG_URL REDIS_PORT BUYERS SEATS [flush | failover SENTINEL_DIR]"""
import os, random, subprocess, sys, threading, time

import api
import invariants
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import verify_admission_log  # noqa: E402
from concurrent.futures import ThreadPoolExecutor

BASE, ADMIN, PG, REDIS_PORT = sys.argv[1:5]
BUYERS, SEATS = int(sys.argv[5]), int(sys.argv[6])
FLUSH = len(sys.argv) > 7 and sys.argv[7] == "flush"
FAILOVER = len(sys.argv) > 8 and sys.argv[7] == "failover"
SERVERS_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support", "servers.sh")
failures = []
checks = [0]
call = api.make_call(BASE)

def check(name, cond, detail=""):
    checks[0] += 1
    if not cond:
        failures.append(f"{name}: {detail}")

def psql(sql):
    return api.psql(PG, sql)

A = {"Authorization": "Bearer " + ADMIN}
per_row = 10
rows = [{"label": str(i + 1), "seats": min(per_row, SEATS - i * per_row), "grade": "A"}
        for i in range((SEATS + per_row - 1) // per_row)]
s, v, _ = call("POST", "/v1/admin/venues", {"name": "Race Hall", "sections": [{"name": "S", "rows": rows}]}, A)
check("venue", s == 201, v)
s, e, _ = call("POST", "/v1/admin/events", {"title": "Race", "venue_id": v["id"]}, A)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
s, p, _ = call("POST", f"/v1/admin/events/{e['id']}/performances", {
    "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 2,
    # A failover may bring back a hold released on the old primary just before it died (its
    # removal not replicated yet): such a hold keeps its seat until it expires, so the failover
    # race uses short holds and buyers who wait for them.
    **({"hold_ttl_seconds": 15} if FAILOVER else {}),
    "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
    "queue": {"admit_per_interval": 1000, "interval_ms": 100, "max_active": 10000}}, A)
check("performance", s == 201, p)
PERF = p["id"]
call("PATCH", f"/v1/admin/performances/{PERF}", {"status": "on_sale"}, A)

paid_orders = {}  # order id -> seat ids of the tickets its 200 answer named
reader = {}          # an admitted buyer's e-mail and access token, for the final seat-map read
admitted_at = set()  # positions of the admitted buyers
lock = threading.Lock()
flushed = threading.Event()

def buyer(i):
    email = f"racer{i}-{random.randrange(10**9)}@example.com"
    call("POST", "/v1/accounts", {"email": email, "password": "password-123", "name": f"B{i}"})
    def login():
        s, b, _ = call("POST", "/v1/sessions", {"email": email, "password": "password-123"})
        return {"Authorization": "Bearer " + b.get("session_token", "")}
    U = login()
    ticket = None
    for _ in range(200):
        s, b, _ = call("POST", f"/v1/performances/{PERF}/queue", None,
                       {**U, **({"Queue-Ticket": ticket} if ticket else {})})
        if s == 401:
            # Also while Redis fails over (a log-in answers 503 then): not a hot loop.
            U = login(); time.sleep(0.05); continue
        if s in (200, 201):
            ticket = b["ticket"]; break
        if s == 422:
            return
        time.sleep(0.05)
    if not ticket:
        return
    access = None
    for _ in range(400):
        s, b, _ = call("GET", f"/v1/performances/{PERF}/queue/status", None, {"Queue-Ticket": ticket})
        if s == 200 and b["state"] == "admitted":
            access = b["access_token"]
            with lock:
                admitted_at.add(b["position"])
            break
        if s == 200 and b["state"] in ("sold_out", "closed"):
            return
        time.sleep(0.05)
    if not access:
        return
    Z = {"Access-Token": access}
    with lock:
        reader.setdefault("email", email)
        reader.setdefault("access", access)
    for attempt in range(600 if FAILOVER else 60):
        s, m, _ = call("GET", f"/v1/performances/{PERF}/seats", None, {**U, **Z})
        if s == 401:
            U = login(); continue
        if s != 200:
            time.sleep(0.05); continue
        free = [x["id"] for x in m["seats"] if x["state"] == "available"]
        if not free:
            if all(x["state"] == "sold" for x in m["seats"]):
                return
            time.sleep(0.1); continue
        want = random.sample(free, min(len(free), random.choice([1, 2])))
        s, h, _ = call("POST", f"/v1/performances/{PERF}/holds", {"seat_ids": want}, {**U, **Z})
        if s == 401:
            U = login(); continue
        if s == 422 and h["error"]["code"] in ("sold_out", "seat_limit_reached"):
            return
        if s != 201:
            continue
        s, o, _ = call("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
        if s == 401:
            U = login(); s, o, _ = call("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
        if s not in (200, 201):
            call("DELETE", f"/v1/holds/{h['hold_id']}", None, U)
            continue
        key = f"pay-{i}-{attempt}"
        # As a real client: the same key again after a 503 or while the first try still runs.
        for _ in range(40):
            s, r, _ = call("POST", f"/v1/orders/{o['id']}/payment", {"method": "card", "card_token": "tok_ok"},
                           {**U, "Idempotency-Key": key})
            if s == 401:
                U = login(); continue
            if s == 503 or (s == 409 and r["error"]["code"] == "idempotency_in_progress"):
                time.sleep(0.25); continue
            break
        if s == 200:
            with lock:
                paid_orders[o["id"]] = [t["seat_id"] for t in r.get("tickets", [])]
            return

def flusher():
    while len(paid_orders) < max(1, SEATS // 5):
        time.sleep(0.02)
    subprocess.run(["redis-cli", "-p", REDIS_PORT, "FLUSHALL"], capture_output=True, check=True)
    flushed.set()

failed_over = {}

def killer():
    # Mid-sale: a fifth of the seats paid, buyers still holding and paying.
    while len(paid_orders) < max(1, SEATS // 5):
        time.sleep(0.02)
    old = subprocess.run(["bash", SERVERS_SH, "sentinel-primary", sys.argv[8]],
                         capture_output=True, text=True, check=True).stdout.strip()
    r = subprocess.run(["bash", SERVERS_SH, "sentinel-kill-primary", sys.argv[8]],
                       capture_output=True, text=True)
    failed_over.update(old=old, new=r.stdout.strip(), rc=r.returncode, paid=len(paid_orders),
                       err=r.stderr[-500:])

if FLUSH:
    threading.Thread(target=flusher, daemon=True).start()
if FAILOVER:
    threading.Thread(target=killer, daemon=True).start()
with ThreadPoolExecutor(max_workers=64) as pool:
    list(pool.map(buyer, range(BUYERS)))
if FLUSH:
    check("redis was flushed mid-race", flushed.is_set())
if FAILOVER:
    check("the redis primary was killed and replaced mid-race",
          failed_over.get("rc") == 0 and failed_over.get("new") not in ("", failed_over.get("old")),
          failed_over)
    check("the failover came before the last seat was paid", failed_over.get("paid", SEATS) < SEATS,
          failed_over)

for name, ok, detail in invariants.sale_checks(PG, PERF, SEATS, paid_orders):
    check(name, ok, detail)
tickets = int(psql(f"SELECT count(*) FROM tickets WHERE performance_id = '{PERF}'"))
paid = len(paid_orders)
s, st, _ = call("GET", f"/v1/admin/performances/{PERF}/stats", None, A)
seats = st.get("seats", {})
if FAILOVER:
    # Replication is asynchronous: writes of the old primary's last moment may be missing on the
    # new one, among them the removal of a hold whose seat was then paid. Such a resurrected hold
    # still counts as held in Redis until it expires (a lease, harmless: PostgreSQL refuses a
    # second sale), so here only sold and available must add up.
    check("sold + available = capacity after a failover",
          seats.get("sold", 0) + seats.get("available", 0) == SEATS, st)
else:
    check("sold + held + available = capacity", seats.get("sold", 0) + seats.get("held", 0) + seats.get("available", 0) == SEATS, st)
check("stats sold", seats.get("sold") == SEATS, st)
# What a buyer sees afterwards: every seat sold, also after a flush (the sold markers re-loaded
# from PostgreSQL), read as an admitted buyer would.
check("a buyer was admitted", "email" in reader, reader)
if "email" in reader:
    s, b, _ = call("POST", "/v1/sessions", {"email": reader["email"], "password": "password-123"})
    R = {"Authorization": "Bearer " + b.get("session_token", ""), "Access-Token": reader["access"]}
    s, m, _ = call("GET", f"/v1/performances/{PERF}/seats", None, R)
    check("final seat map read", s == 200, f"{s} {m}")
    states = [x["state"] for x in m.get("seats", [])] if s == 200 else []
    check("final seat map: every seat sold", len(states) == SEATS and all(x == "sold" for x in states),
          {x: states.count(x) for x in set(states)})
# The public admission log, checked by the verifier buyers are given: the chain PostgreSQL made
# holds, and every admitted buyer's position is in an entry. A tampered copy must fail.
log = verify_admission_log.fetch(BASE, PERF)
problems = verify_admission_log.verify(log)
check("admission log holds", log and not problems, problems[:5])
missing = sorted(p for p in admitted_at if not verify_admission_log.admitting_entry(log, p))
check("every admitted position is in the admission log", not missing, missing[:10])
if log:
    tampered = [dict(e) for e in log]
    tampered[0]["to_position"] += 1
    check("a tampered admission log fails", verify_admission_log.verify(tampered), tampered[0])
for f in failures:
    print("FAIL:", f)
print(f"race: {BUYERS} buyers, {SEATS} seats, flush={FLUSH}, failover={failed_over or False}: "
      f"{tickets} sold, {paid} paid orders")
print(f"{checks[0] - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
