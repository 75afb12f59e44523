#!/usr/bin/env python3
"""Crash between the provider's charge and the commit (test builds: TICKETING_FAULT).
Phase 1 (service started with TICKETING_FAULT=crash_after_charge): buy up to the payment, whose
request kills the service after the charge. Phase 2 (service restarted normally): the retry with
the same Idempotency-Key succeeds and the ledger holds exactly one charge.
Usage: crash.py phase1|phase2 BASE_URL ADMIN_TOKEN PG_URL STATE_FILE"""
import json, sys, time, urllib.error

import api

phase, BASE, ADMIN, PG, STATE = sys.argv[1:6]

call2 = api.make_call(BASE)

def call(method, path, body=None, headers=None):
    s, b, _ = call2(method, path, body, headers)
    return s, b

def psql(sql):
    return api.psql(PG, sql)

def fail(msg):
    print("FAIL:", msg); print("0 passed, 1 failed"); sys.exit(1)

if phase == "phase1":
    A = {"Authorization": "Bearer " + ADMIN}
    s, v = call("POST", "/v1/admin/venues", {"name": "Crash Hall", "sections": [{"name": "S", "rows": [{"label": "1", "seats": 4, "grade": "A"}]}]}, A)
    s, e = call("POST", "/v1/admin/events", {"title": "Crash", "venue_id": v["id"]}, A)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    s, p = call("POST", f"/v1/admin/events/{e['id']}/performances", {"starts_at": later, "sale_opens_at": now,
        "price_grades": [{"grade": "A", "price_cents": 7000, "currency": "KRW"}], "queue": {"interval_ms": 100}}, A)
    perf = p["id"]
    call("PATCH", f"/v1/admin/performances/{perf}", {"status": "on_sale"}, A)
    email = f"crash{int(time.time()*1000)}@example.com"
    call("POST", "/v1/accounts", {"email": email, "password": "password-123", "name": "C"})
    s, ses = call("POST", "/v1/sessions", {"email": email, "password": "password-123"})
    U = {"Authorization": "Bearer " + ses["session_token"]}
    s, j = call("POST", f"/v1/performances/{perf}/queue", None, U)
    for _ in range(100):
        s, st = call("GET", f"/v1/performances/{perf}/queue/status", None, {"Queue-Ticket": j["ticket"]})
        if st.get("state") == "admitted":
            break
        time.sleep(0.1)
    Z = {**U, "Access-Token": st["access_token"]}
    s, m = call("GET", f"/v1/performances/{perf}/seats", None, Z)
    want = [x["id"] for x in m["seats"]][:2]
    s, h = call("POST", f"/v1/performances/{perf}/holds", {"seat_ids": want}, Z)
    s, o = call("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
    try:
        s, r = call("POST", f"/v1/orders/{o['id']}/payment", {"method": "card", "card_token": "tok_ok"},
                    {**U, "Idempotency-Key": "crash-key"})
        fail(f"the service answered {s} instead of dying after the charge")
    except (urllib.error.URLError, ConnectionError, OSError):
        pass  # the connection dropped: the process died between the charge and the commit
    charges = psql(f"SELECT count(*) FROM provider_charges WHERE order_ref = '{o['id']}' AND status = 'charged'")
    status = psql(f"SELECT status FROM orders WHERE id = '{o['id']}'")
    if charges != "1" or status != "pending":
        fail(f"expected a charge and a pending order after the crash, got {charges} charges, order {status}")
    json.dump({"session": ses["session_token"], "order": o["id"], "seats": want}, open(STATE, "w"))
    print("phase1: charged, then crashed before the commit")
else:
    st = json.load(open(STATE))
    U = {"Authorization": "Bearer " + st["session"], "Idempotency-Key": "crash-key"}
    A = {"Authorization": "Bearer " + ADMIN}
    codes = []
    # The dead attempt keeps its lease (provider timeout + margin, measured on the service clock):
    # a retry inside it is refused; the test clock, not a sleep, moves past it.
    for _ in range(20):
        s, r = call("POST", f"/v1/orders/{st['order']}/payment", {"method": "card", "card_token": "tok_ok"}, U)
        codes.append(s)
        if s == 200:
            break
        if s != 409 or r["error"]["code"] != "idempotency_in_progress":
            fail(f"retry answered {s} {r}")
        s, _ = call("POST", "/v1/test/clock", {"advance_ms": 1000}, A)
        if s != 200:
            fail(f"test clock answered {s}")
    if codes[-1] != 200:
        fail(f"retry never succeeded: {codes[-5:]}")
    if r["status"] != "paid" or len(r["tickets"]) != len(st["seats"]):
        fail(f"unexpected answer {r}")
    s, again = call("POST", f"/v1/orders/{st['order']}/payment", {"method": "card", "card_token": "tok_ok"}, U)
    charges = psql(f"SELECT count(*) FROM provider_charges WHERE order_ref = '{st['order']}'")
    paid = psql(f"SELECT status FROM orders WHERE id = '{st['order']}'")
    tickets = psql(f"SELECT count(*) FROM tickets WHERE order_id = '{st['order']}'")
    checks = [("one charge in the ledger", charges == "1"), ("order paid", paid == "paid"),
              ("tickets issued", tickets == str(len(st["seats"]))), ("replay identical", s == 200 and again == r)]
    bad = [n for n, ok in checks if not ok]
    for n in bad:
        print("FAIL:", n, charges, paid, tickets)
    print(f"phase2: retry paid after {len(codes)} attempt(s)")
    print(f"{len(checks) - len(bad)} passed, {len(bad)} failed")
    sys.exit(1 if bad else 0)
