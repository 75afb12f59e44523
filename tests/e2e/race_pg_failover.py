#!/usr/bin/env python3
"""A crowd of buyers pays for the seats of a performance while the PostgreSQL primary is killed
(Patroni promotes the synchronous replica). Payments are retried by the client with the same
Idempotency-Key on 503 or no answer, as a real client does. Afterwards, on the new primary:
every payment answered 200 is a paid order with its tickets, exactly one 'charged' provider charge
per paid order and none without one, no seat in two answers, every seat sold.
Usage: race_pg_failover.py BASE_URL ADMIN_TOKEN PG_URL SERVERS_SH PATRONI_DIR BUYERS SEATS"""
import random, subprocess, sys, threading, time

import api
import invariants
from concurrent.futures import ThreadPoolExecutor

BASE, ADMIN, PG, SERVERS_SH, PATRONI_DIR = sys.argv[1:6]
BUYERS, SEATS = int(sys.argv[6]), int(sys.argv[7])
failures = []
checks = [0]
raw_call = api.make_call(BASE)


def call(method, path, body=None, headers=None):
    # "No answer" (reset, refused, timeout) is status 0: the client does not know what happened.
    try:
        return raw_call(method, path, body, headers)
    except Exception:  # noqa: BLE001 - any transport failure is "no answer"
        return 0, {}, {}


def check(name, cond, detail=""):
    checks[0] += 1
    if not cond:
        failures.append(f"{name}: {detail}")


def psql(sql):
    return api.psql(PG, sql)


def admin(method, path, body=None):
    for _ in range(100):
        s, b, _ = call(method, path, body, A)
        if s not in (0, 503):
            return s, b
        time.sleep(0.2)
    return s, b


A = {"Authorization": "Bearer " + ADMIN}
per_row = 10
rows = [{"label": str(i + 1), "seats": min(per_row, SEATS - i * per_row), "grade": "A"}
        for i in range((SEATS + per_row - 1) // per_row)]
s, v = admin("POST", "/v1/admin/venues", {"name": "Failover Hall", "sections": [{"name": "S", "rows": rows}]})
check("venue", s == 201, v)
s, e = admin("POST", "/v1/admin/events", {"title": "Failover", "venue_id": v["id"]})
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
s, p = admin("POST", f"/v1/admin/events/{e['id']}/performances", {
    "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 2,
    # Holds a failover left behind (their release answered 503) come back within the test.
    "hold_ttl_seconds": 45,
    "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
    "queue": {"admit_per_interval": 1000, "interval_ms": 100, "max_active": 10000}})
check("performance", s == 201, p)
PERF = p["id"]
admin("PATCH", f"/v1/admin/performances/{PERF}", {"status": "on_sale"})

paid_orders = {}     # order id -> seat ids of the tickets in its 200 answer
paid_before_kill = []
lock = threading.Lock()
killed = threading.Event()
kill_result = {}
END = time.time() + 240


def buyer(i):
    email = f"fo{i}-{random.randrange(10**9)}@example.com"
    while time.time() < END:
        s, _, _ = call("POST", "/v1/accounts", {"email": email, "password": "password-123", "name": f"B{i}"})
        if s not in (0, 503):
            break
        time.sleep(0.2)

    def login():
        while time.time() < END:
            s, b, _ = call("POST", "/v1/sessions", {"email": email, "password": "password-123"})
            if s in (200, 201):
                return {"Authorization": "Bearer " + b["session_token"]}
            time.sleep(0.2)
        return {}
    U = login()
    ticket = None
    while time.time() < END:
        s, b, _ = call("POST", f"/v1/performances/{PERF}/queue", None,
                       {**U, **({"Queue-Ticket": ticket} if ticket else {})})
        if s == 401:
            U = login(); continue
        if s in (200, 201):
            ticket = b["ticket"]; break
        if s == 422:
            return
        time.sleep(0.05)
    access = None
    while time.time() < END:
        s, b, _ = call("GET", f"/v1/performances/{PERF}/queue/status", None, {"Queue-Ticket": ticket})
        if s == 200 and b["state"] == "admitted":
            access = b["access_token"]; break
        if s == 200 and b["state"] in ("sold_out", "closed"):
            return
        time.sleep(0.05)
    if not access:
        return
    Z = {"Access-Token": access}
    attempt = 0
    while time.time() < END:
        attempt += 1
        s, m, _ = call("GET", f"/v1/performances/{PERF}/seats", None, {**U, **Z})
        if s == 401:
            U = login(); continue
        if s != 200:
            time.sleep(0.1); continue
        free = [x["id"] for x in m["seats"] if x["state"] == "available"]
        if not free:
            if all(x["state"] == "sold" for x in m["seats"]):
                return
            time.sleep(0.2); continue
        want = random.sample(free, min(len(free), random.choice([1, 2])))
        s, h, _ = call("POST", f"/v1/performances/{PERF}/holds", {"seat_ids": want}, {**U, **Z})
        if s == 401:
            U = login(); continue
        if s == 422 and h["error"]["code"] in ("sold_out", "seat_limit_reached"):
            return
        if s != 201:
            time.sleep(0.05); continue
        # Placing an order is idempotent per hold: after a 503 or no answer (it may have been
        # committed) the client asks again; giving the hold back is retried the same way.
        for _ in range(120):
            s, o, _ = call("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
            if s == 401:
                U = login(); continue
            if s not in (0, 503):
                break
            time.sleep(0.25)
        if s not in (200, 201):
            for _ in range(120):
                d, _, _ = call("DELETE", f"/v1/holds/{h['hold_id']}", None, U)
                if d not in (0, 503):
                    break
                time.sleep(0.25)
            time.sleep(0.1)
            continue
        key = f"pay-{i}-{attempt}"
        # As a real client: the same key again after a 503, no answer, or while the first try
        # still runs, for as long as it takes (a failover lasts ~10 s, a payment in doubt is
        # taken over after its lease).
        while time.time() < END:
            s, r, _ = call("POST", f"/v1/orders/{o['id']}/payment",
                           {"method": "card", "card_token": "tok_ok"}, {**U, "Idempotency-Key": key})
            if s == 401:
                U = login(); continue
            if s in (0, 503) or (s == 409 and r["error"]["code"] == "idempotency_in_progress"):
                time.sleep(0.25); continue
            break
        if s == 200:
            with lock:
                paid_orders[o["id"]] = [t["seat_id"] for t in r.get("tickets", [])]
                if not killed.is_set():
                    paid_before_kill.append(o["id"])
            return


def killer():
    # Mid-sale: a quarter of the seats paid, the rest still being bought.
    while len(paid_orders) < max(1, SEATS // 8) and time.time() < END:
        time.sleep(0.02)
    t0 = time.time()
    r = subprocess.run(["bash", SERVERS_SH, "patroni-kill-primary", PATRONI_DIR],
                       capture_output=True, text=True)
    killed.set()
    kill_result.update(rc=r.returncode, out=r.stdout.strip(), err=r.stderr[-500:],
                       took=round(time.time() - t0, 1), paid_at_kill=len(paid_orders))


threading.Thread(target=killer, daemon=True).start()
with ThreadPoolExecutor(max_workers=64) as pool:
    list(pool.map(buyer, range(BUYERS)))

check("the primary was killed mid-sale", killed.is_set() and kill_result.get("rc") == 0, kill_result)
check("payments answered 200 before the kill", len(paid_before_kill) > 0, kill_result)
print("failover:", kill_result)

for name, ok, detail in invariants.sale_checks(PG, PERF, SEATS, paid_orders):
    check(name, ok, detail)
tickets = int(psql(f"SELECT count(*) FROM tickets WHERE performance_id = '{PERF}'"))
paid = len(paid_orders)
for f in failures:
    print("FAIL:", f)
print(f"pg failover race: {BUYERS} buyers, {SEATS} seats: {tickets} sold, {paid} paid orders, "
      f"{len(paid_before_kill)} answered 200 before the kill")
print(f"{checks[0] - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
