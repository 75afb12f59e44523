#!/usr/bin/env python3
"""A crowd of buyers through the edge and the balancer (HTTPS, the local CA in SSL_CERT_FILE) while
one of the two processes behind the balancer is killed with SIGKILL. Buyers behave as real clients:
a payment that got no answer or a 502/503 is sent again with the same Idempotency-Key (until a
definitive answer), an order placement likewise with the same hold; any other step that failed is
started over. Afterwards nothing acknowledged may be missing: every sign-up
answered 201 exists, every payment answered 200 is a paid order with its tickets, no seat is sold
twice, one charge per paid order and none without one, and no read failed across the kill (the
balancer sends a safe request again to the live process).
Usage: ha_crowd.py BASE_URL ADMIN PG_URL KILL_PID BUYERS SEATS"""
import os, random, signal, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

import api
import invariants

BASE, ADMIN, PG, KILL_PID = sys.argv[1:5]
BUYERS, SEATS = int(sys.argv[5]), int(sys.argv[6])
call = api.make_call(BASE)
A = {"Authorization": "Bearer " + ADMIN}
check = api.Checks()


lock = threading.Lock()
signed_up, paid = [], {}  # paid: order id -> seat ids its 200 answer named
reads, read_failures, write_failures = [0], [], []
killed_at = [None]


def req(method, path, body=None, headers=None):
    """One request; (status, body). A dropped connection is status None (never expected: the
    balancer answers for a process it lost)."""
    try:
        s, b, _ = call(method, path, body, headers)
    except Exception as ex:  # noqa: BLE001 - any transport failure counts
        s, b = None, {"transport": str(ex)}
    with lock:
        if method == "GET":
            if s == 200:
                reads[0] += 1
            elif s not in (304, 404):
                read_failures.append((path, s, b))
        elif s is None or s >= 500:
            write_failures.append((method, path, s))
    return s, b


# --- a performance with SEATS seats, admitting quickly
rows = [{"label": str(i + 1), "seats": min(10, SEATS - i * 10), "grade": "A"}
        for i in range((SEATS + 9) // 10)]
s, v = req("POST", "/v1/admin/venues", {"name": "HA Hall", "sections": [{"name": "S", "rows": rows}]}, A)
check("venue", s == 201, (s, v))
s, e = req("POST", "/v1/admin/events", {"title": "HA crowd", "venue_id": v["id"]}, A)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
s, p = req("POST", f"/v1/admin/events/{e['id']}/performances", {
    "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 2,
    # A hold whose answer was lost with the killed process is nobody's: its seats come back
    # within the crowd's patience below, so every seat is sold in the end.
    "hold_ttl_seconds": 15,
    "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
    "queue": {"admit_per_interval": 1000, "interval_ms": 100, "max_active": 10000}}, A)
check("performance", s == 201, (s, p))
PERF = p["id"]
req("PATCH", f"/v1/admin/performances/{PERF}", {"status": "on_sale"}, A)


def buyer(i):
    email = f"ha{i}-{random.randrange(10**9)}@example.com"
    for _ in range(40):
        s, _ = req("POST", "/v1/accounts", {"email": email, "password": "password-123", "name": "H"})
        if s in (201, 409):  # 409: an earlier try that got no answer did create it
            break
        time.sleep(0.1)
    if s == 201:
        with lock:
            signed_up.append(email)
    U = None
    for _ in range(40):
        s, b = req("POST", "/v1/sessions", {"email": email, "password": "password-123"})
        if s in (200, 201):
            U = {"Authorization": "Bearer " + b["session_token"]}
            break
        time.sleep(0.1)
    if not U:
        return
    ticket = None
    for _ in range(100):
        s, b = req("POST", f"/v1/performances/{PERF}/queue", None,
                   {**U, **({"Queue-Ticket": ticket} if ticket else {})})
        if s in (200, 201):
            ticket = b["ticket"]
            break
        time.sleep(0.05)
    access = None
    for _ in range(400):
        if not ticket:
            break
        s, b = req("GET", f"/v1/performances/{PERF}/queue/status", None, {"Queue-Ticket": ticket})
        if s == 200 and b["state"] == "admitted":
            access = b["access_token"]
            break
        if s == 200 and b["state"] in ("sold_out", "closed"):
            return
        time.sleep(0.05)
    if not access:
        return
    Z = {**U, "Access-Token": access}
    until, attempt = time.time() + 60, 0  # past the hold TTL: seats of lost holds come back
    while time.time() < until:
        attempt += 1
        s, m = req("GET", f"/v1/performances/{PERF}/seats", None, Z)
        if s != 200:
            time.sleep(0.05)
            continue
        free = [x["id"] for x in m["seats"] if x["state"] == "available"]
        if not free:
            if all(x["state"] == "sold" for x in m["seats"]):
                return
            time.sleep(0.1)
            continue
        s, h = req("POST", f"/v1/performances/{PERF}/holds",
                   {"seat_ids": random.sample(free, min(len(free), random.choice([1, 2])))}, Z)
        if s == 422 and h["error"]["code"] in ("sold_out", "seat_limit_reached"):
            return
        if s != 201:
            continue
        # An order placed whose answer was lost (its process killed after the commit) is found
        # again by its hold: the same request answers 200 with it.
        until = time.time() + 30
        while True:
            s, o = req("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
            if s not in (None, 502, 503) or time.time() > until:
                break
            time.sleep(0.25)
        if s not in (200, 201):
            req("DELETE", f"/v1/holds/{h['hold_id']}", None, U)
            continue
        key = f"ha-pay-{i}-{attempt}"
        # Until a definitive answer, as a real client does: an order left unpaid keeps its seats
        # until it expires, long after the crowd is gone (a busy machine can take many tries
        # while the killed process's attempt waits out its lease).
        until = time.time() + 90
        while time.time() < until:
            s, r = req("POST", f"/v1/orders/{o['id']}/payment",
                       {"method": "card", "card_token": "tok_ok"}, {**U, "Idempotency-Key": key})
            if s is None or s in (502, 503) or (
                    s == 409 and r["error"]["code"] == "idempotency_in_progress"):
                time.sleep(0.25)
                continue
            break
        if s == 200:
            with lock:
                paid[o["id"]] = [t["seat_id"] for t in r.get("tickets", [])]
            return


def killer():
    # Mid-crowd: once a fifth of the seats are paid for.
    while len(paid) < max(1, SEATS // 5) and not done.is_set():
        time.sleep(0.02)
    if not done.is_set():
        os.kill(int(KILL_PID), signal.SIGKILL)
        killed_at[0] = (time.time(), len(paid))


done = threading.Event()
k = threading.Thread(target=killer)
k.start()
with ThreadPoolExecutor(max_workers=48) as pool:
    list(pool.map(buyer, range(BUYERS)))
done.set()
k.join()

check("a process was killed mid-crowd", killed_at[0] is not None and killed_at[0][1] < SEATS,
      killed_at[0])
check("sales continued after the kill", killed_at[0] is not None and len(paid) > killed_at[0][1],
      (len(paid), killed_at[0]))
for name, ok, detail in invariants.sale_checks(PG, PERF, SEATS, paid, answers_complete=False):
    check(name, ok, detail)
quoted = ",".join(f"'{x}'" for x in signed_up) or "''"
n = api.psql(PG, f"SELECT count(*) FROM accounts WHERE email IN ({quoted})")
check("no acknowledged sign-up lost", n == str(len(signed_up)), f"{n} of {len(signed_up)}")
s, st = req("GET", f"/v1/admin/performances/{PERF}/stats", None, A)
seats = st.get("seats", {})
check("sold + held + available = capacity",
      seats.get("sold", 0) + seats.get("held", 0) + seats.get("available", 0) == SEATS, st)
check("no read failed across the kill", reads[0] > 100 and not read_failures,
      f"{reads[0]} reads, failures {read_failures[:5]}")
# A write in flight on the killed process may or may not have happened: the balancer answers 502
# (or 503), never drops the client's connection.
check("unanswered writes got 502/503 from the balancer",
      all(s in (502, 503) for _, _, s in write_failures), write_failures[:5])
print(f"ha crowd: {BUYERS} buyers, {SEATS} seats: {len(paid)} paid, {len(signed_up)} sign-ups, "
      f"{reads[0]} reads, {len(write_failures)} writes not answered")
check.finish()
