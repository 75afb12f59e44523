#!/usr/bin/env python3
"""Graceful shutdown with a payment in flight (service started with TICKETING_PAYMENT_LATENCY_MS
longer than TICKETING_DRAIN_DELAY_MS): on SIGTERM /readyz answers 503 at once while requests are
still served, new connections are refused once the drain delay has passed, the payment in flight
still completes with 200 and the ledger holds its one charge. The caller checks the exit status.
Every step waits for a condition (bounded), never for a fixed time.
Usage: drain.py BASE_URL ADMIN_TOKEN PG_URL PID"""
import os, signal, socket, sys, threading, time, urllib.request, urllib.error
from urllib.parse import urlparse

import api

BASE, ADMIN, PG, PID = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
call2 = api.make_call(BASE)
addr = (urlparse(BASE).hostname, urlparse(BASE).port)


def call(method, path, body=None, headers=None):
    s, b, _ = call2(method, path, body, headers)
    return s, b


def fail(msg):
    print("FAIL:", msg); print("0 passed, 1 failed"); sys.exit(1)


def until(what, cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    fail(f"timed out waiting for {what}")


A = {"Authorization": "Bearer " + ADMIN}
s, v = call("POST", "/v1/admin/venues", {"name": "Drain Hall", "sections": [{"name": "S", "rows": [{"label": "1", "seats": 2, "grade": "A"}]}]}, A)
s, e = call("POST", "/v1/admin/events", {"title": "Drain", "venue_id": v["id"]}, A)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
s, p = call("POST", f"/v1/admin/events/{e['id']}/performances", {"starts_at": later, "sale_opens_at": now,
    "price_grades": [{"grade": "A", "price_cents": 7000, "currency": "KRW"}], "queue": {"interval_ms": 100}}, A)
perf = p["id"]
call("PATCH", f"/v1/admin/performances/{perf}", {"status": "on_sale"}, A)
email = f"drain{int(time.time()*1000)}@example.com"
call("POST", "/v1/accounts", {"email": email, "password": "password-123", "name": "D"})
s, ses = call("POST", "/v1/sessions", {"email": email, "password": "password-123"})
U = {"Authorization": "Bearer " + ses["session_token"]}
s, j = call("POST", f"/v1/performances/{perf}/queue", None, U)
st = until("admission", lambda: (lambda r: r[1] if r[1].get("state") == "admitted" else None)(
    call("GET", f"/v1/performances/{perf}/queue/status", None, {"Queue-Ticket": j["ticket"]})))
Z = {**U, "Access-Token": st["access_token"]}
s, m = call("GET", f"/v1/performances/{perf}/seats", None, Z)
s, h = call("POST", f"/v1/performances/{perf}/holds", {"seat_ids": [m["seats"][0]["id"]]}, Z)
s, o = call("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
if s != 201 and s != 200:
    fail(f"order: {s} {o}")

result = {}
def pay():
    result["status"], result["body"] = call("POST", f"/v1/orders/{o['id']}/payment",
        {"method": "card", "card_token": "tok_ok"}, {**U, "Idempotency-Key": "drain-key"})
    result["done_at"] = time.monotonic()
payer = threading.Thread(target=pay)
payer.start()
# In flight: its idempotency row is taken and the provider's (slow) charge is under way.
until("the payment in flight", lambda: api.psql(PG,
    f"SELECT count(*) FROM idempotency_keys WHERE key = 'drain-key' AND state = 'in_progress'") == "1")

os.kill(PID, signal.SIGTERM)
term_at = time.monotonic()


def readyz():
    try:
        with urllib.request.urlopen(BASE + "/readyz", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, ConnectionError, OSError) as e:
        fail(f"/readyz refused the connection during the drain delay: {e}")

# /readyz turns 503 while new connections are still accepted and answered.
until("/readyz 503", lambda: readyz() == 503, timeout=5)
if "done_at" in result:
    fail("the payment finished before the drain delay ended: raise its latency")
s, _ = call("GET", f"/v1/performances/{perf}/sections", None, Z)
if s != 200:
    fail(f"a request during the drain delay got {s}")


def refused():
    try:
        socket.create_connection(addr, timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True
until("listeners closed", refused, timeout=10)
refused_at = time.monotonic()
if "done_at" in result:
    fail("listeners closed only after the in-flight payment ended: it did not overlap the drain")

payer.join(30)
if payer.is_alive() or result.get("status") != 200 or result["body"].get("status") != "paid":
    fail(f"in-flight payment: {result}")
charges = api.psql(PG, f"SELECT count(*) FROM provider_charges WHERE order_ref = '{o['id']}' AND status = 'charged'")
if charges != "1":
    fail(f"expected one charge, found {charges}")


def exited():
    # The service is the shell's child: once it exits it stays a zombie until the shell reaps it.
    try:
        with open(f"/proc/{PID}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped, before or while reading
        return True
until("the process to exit", exited, timeout=20)
print(f"drain: 503 then refused after {refused_at - term_at:.2f}s; payment paid "
      f"{result['done_at'] - term_at:.2f}s after SIGTERM")
print("1 passed, 0 failed")
