"""Shared by the e-mail tests: a small sale and one buyer's purchase, retried through restarts.
`call(method, path, body, headers)` returns (status, body, headers) and (0, {}, {}) while the
service cannot be reached."""
import random, time


def open_sale(call, admin, seats, title):
    """A venue of `seats` seats in rows of 10, an event and a performance on sale now, one seat
    per order and admission wide open. Returns the performance id."""
    A = {"Authorization": "Bearer " + admin}
    rows = [{"label": str(i + 1), "seats": 10, "grade": "A"} for i in range(seats // 10)]
    s, v, _ = call("POST", "/v1/admin/venues", {"name": title + " Hall", "sections": [{"name": "S", "rows": rows}]}, A)
    assert s == 201, v
    s, e, _ = call("POST", "/v1/admin/events", {"title": title, "venue_id": v["id"]}, A)
    assert s == 201, e
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
    s, p, _ = call("POST", f"/v1/admin/events/{e['id']}/performances", {
        "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 1,
        "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
        "queue": {"admit_per_interval": 1000, "interval_ms": 100, "max_active": 10000}}, A)
    assert s == 201, p
    s, b, _ = call("PATCH", f"/v1/admin/performances/{p['id']}", {"status": "on_sale"}, A)
    assert s == 200, b
    return p["id"]


def buy(call, perf, i):
    """Signs up buyer i, queues, holds a random free seat and pays, retrying whatever a restart
    interrupts. Returns (order_id, session headers) once paid, or (None, headers) when sold out."""
    mail = f"buyer{i}-{random.randrange(10**9)}@example.com"
    for _ in range(100):
        s, _, _ = call("POST", "/v1/accounts", {"email": mail, "password": "password-123", "name": f"구매자{i}"})
        if s in (201, 409):
            break
        time.sleep(0.1)

    def login():
        for _ in range(100):
            s, b, _ = call("POST", "/v1/sessions", {"email": mail, "password": "password-123"})
            if s in (200, 201):
                return {"Authorization": "Bearer " + b["session_token"]}
            time.sleep(0.1)
        return {}
    U = login()
    for attempt in range(200):
        s, b, _ = call("POST", f"/v1/performances/{perf}/queue", None, U)
        if s == 401:
            U = login(); continue
        if s not in (200, 201):
            time.sleep(0.1); continue
        ticket, access = b["ticket"], None
        for _ in range(200):
            s, b, _ = call("GET", f"/v1/performances/{perf}/queue/status", None, {"Queue-Ticket": ticket})
            if s == 200 and b["state"] == "admitted":
                access = b["access_token"]; break
            if s == 200 and b["state"] in ("sold_out", "closed"):
                return None, U
            time.sleep(0.05)
        if not access:
            continue
        Z = {**U, "Access-Token": access}
        s, m, _ = call("GET", f"/v1/performances/{perf}/seats", None, Z)
        if s != 200:
            time.sleep(0.1); continue
        free = [x["id"] for x in m["seats"] if x["state"] == "available"]
        if not free:
            if all(x["state"] == "sold" for x in m["seats"]):
                return None, U
            time.sleep(0.1); continue
        s, h, _ = call("POST", f"/v1/performances/{perf}/holds", {"seat_ids": [random.choice(free)]}, Z)
        if s != 201:
            if s == 422 and h.get("error", {}).get("code") in ("sold_out", "seat_limit_reached"):
                return None, U
            continue
        s, o, _ = call("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
        if s not in (200, 201):
            continue
        key = f"pay-{i}-{attempt}"
        for _ in range(60):
            s, r, _ = call("POST", f"/v1/orders/{o['id']}/payment",
                           {"method": "card", "card_token": "tok_ok"}, {**U, "Idempotency-Key": key})
            if s in (0, 503) or (s == 409 and r["error"]["code"] == "idempotency_in_progress"):
                time.sleep(0.25); continue
            break
        if s == 200:
            return o["id"], U
    return None, U


def mailbox(mail_dir, orders):
    """{order_id: [(Message-ID, X-Ticketing-Kind)]} of the sink's messages for those orders."""
    import email.parser, glob, os
    out = {}
    for f in glob.glob(os.path.join(mail_dir, "*.eml")):
        with open(f, "rb") as fh:
            msg = email.parser.BytesParser().parse(fh, headersonly=True)
        oid = msg.get("X-Ticketing-Order")
        if oid in orders:
            out.setdefault(oid, []).append((msg.get("Message-ID"), msg.get("X-Ticketing-Kind")))
    return out
