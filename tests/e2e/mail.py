#!/usr/bin/env python3
"""Receipt e-mails across a crash: buyers purchase in a burst while the service is killed
(SIGKILL) and restarted twice; afterwards every paid order has its receipt in the SMTP sink and
no order has two different receipts. Counted by X-Ticketing-Order in the sink's folder, which
keeps every accepted delivery: a copy sent again after a crash between the SMTP send and its
record must carry the same Message-ID (so the receiver drops it), and such copies are reported.
Usage: mail.py SERVICE_BIN PORT OPS_PORT ADMIN_TOKEN PG_URL MAIL_DIR LOG"""
import email.parser, glob, os, random, signal, subprocess, sys, threading, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor

import api

BIN, PORT, OPS, ADMIN, PG, MAIL_DIR, LOG = sys.argv[1:8]
BASE = f"http://127.0.0.1:{PORT}"
BUYERS, SEATS = 40, 40
failures, checks = [], [0]
raw_call = api.make_call(BASE)


def call(method, path, body=None, headers=None):
    try:
        return raw_call(method, path, body, headers)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, {}, {}  # the service is down for a moment: callers retry


def check(name, cond, detail=""):
    checks[0] += 1
    if not cond:
        failures.append(f"{name}: {detail}")


proc = [None]
logf = open(LOG, "ab")


def start():
    proc[0] = subprocess.Popen([BIN], stdout=logf, stderr=logf)
    for _ in range(150):
        try:
            with urllib.request.urlopen(BASE + "/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        if proc[0].poll() is not None:
            sys.exit("service died at start")
        time.sleep(0.2)
    sys.exit("service not ready")


def kill():
    proc[0].send_signal(signal.SIGKILL)
    proc[0].wait()


A = {"Authorization": "Bearer " + ADMIN}
start()
rows = [{"label": str(i + 1), "seats": 10, "grade": "A"} for i in range(SEATS // 10)]
s, v, _ = call("POST", "/v1/admin/venues", {"name": "Mail Hall", "sections": [{"name": "S", "rows": rows}]}, A)
check("venue", s == 201, v)
s, e, _ = call("POST", "/v1/admin/events", {"title": "메일 콘서트", "venue_id": v["id"]}, A)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
s, p, _ = call("POST", f"/v1/admin/events/{e['id']}/performances", {
    "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 1,
    "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
    "queue": {"admit_per_interval": 1000, "interval_ms": 100, "max_active": 10000}}, A)
check("performance", s == 201, p)
PERF = p["id"]
call("PATCH", f"/v1/admin/performances/{PERF}", {"status": "on_sale"}, A)

paid = []
lock = threading.Lock()


def buyer(i):
    mail = f"mailer{i}-{random.randrange(10**9)}@example.com"
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
        s, b, _ = call("POST", f"/v1/performances/{PERF}/queue", None, U)
        if s == 401:
            U = login(); continue
        if s not in (200, 201):
            time.sleep(0.1); continue
        ticket, access = b["ticket"], None
        for _ in range(200):
            s, b, _ = call("GET", f"/v1/performances/{PERF}/queue/status", None, {"Queue-Ticket": ticket})
            if s == 200 and b["state"] == "admitted":
                access = b["access_token"]; break
            if s == 200 and b["state"] in ("sold_out", "closed"):
                return
            time.sleep(0.05)
        if not access:
            continue
        Z = {**U, "Access-Token": access}
        s, m, _ = call("GET", f"/v1/performances/{PERF}/seats", None, Z)
        if s != 200:
            time.sleep(0.1); continue
        free = [x["id"] for x in m["seats"] if x["state"] == "available"]
        if not free:
            if all(x["state"] == "sold" for x in m["seats"]):
                return
            time.sleep(0.1); continue
        s, h, _ = call("POST", f"/v1/performances/{PERF}/holds", {"seat_ids": [random.choice(free)]}, Z)
        if s != 201:
            if s == 422 and h.get("error", {}).get("code") in ("sold_out", "seat_limit_reached"):
                return
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
            with lock:
                paid.append(o["id"])
            return


def killer():
    # Two crashes mid-burst, each once a few more orders were paid (their e-mails in flight).
    for target in (8, 20):
        deadline = time.time() + 60
        while len(paid) < target and time.time() < deadline:
            time.sleep(0.01)
        kill()
        start()


k = threading.Thread(target=killer)
k.start()
with ThreadPoolExecutor(max_workers=16) as pool:
    list(pool.map(buyer, range(BUYERS)))
k.join()

db_paid = set(api.psql(PG, f"SELECT id FROM orders WHERE performance_id = '{PERF}' AND status = 'paid'").split())
check("some orders paid across the crashes", len(db_paid) >= 20, len(db_paid))


def sink():
    by_order = {}
    for f in glob.glob(os.path.join(MAIL_DIR, "*.eml")):
        with open(f, "rb") as fh:
            msg = email.parser.BytesParser().parse(fh, headersonly=True)
        oid = msg.get("X-Ticketing-Order")
        if oid in db_paid:
            by_order.setdefault(oid, []).append((msg.get("Message-ID"), msg.get("X-Ticketing-Kind")))
    return by_order


# The outbox drains after the last restart (rows claimed by a killed process come back after the
# lease, TICKETING_OUTBOX_LEASE_MS).
deadline = time.time() + 90
while time.time() < deadline:
    left = api.psql(PG, "SELECT count(*) FROM outbox")
    if left == "0" and len(sink()) == len(db_paid):
        break
    time.sleep(0.5)
by_order = sink()
missing = db_paid - set(by_order)
check("every paid order has its receipt", not missing, sorted(missing))
distinct = {o: {mid for mid, _ in v} for o, v in by_order.items()}
dups = {o: ids for o, ids in distinct.items() if len(ids) != 1}
check("one receipt per order (one Message-ID each)", not dups, dups)
kinds = {k for v in by_order.values() for _, k in v}
check("kind receipt", kinds == {"receipt"}, kinds)
copies = sum(len(v) for v in by_order.values()) - len(by_order)
check("outbox drained, nothing parked", api.psql(PG, "SELECT count(*) FROM outbox") == "0",
      api.psql(PG, "SELECT count(*) || ' left, ' || count(parked_at) || ' parked; ' || "
               "coalesce(string_agg(topic || ' attempts ' || attempts || ': ' || "
               "coalesce(last_error, '-'), '; '), '') FROM outbox"))
undone = api.psql(PG, f"""SELECT count(*) FROM orders o WHERE o.performance_id = '{PERF}' AND o.status = 'paid'
  AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.order_id = o.id)""")
check("every paid order in the receipts ledger", undone == "0", undone)
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{OPS}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    check("metrics: nothing parked", "\noutbox_parked 0\n" in metrics,
          [l for l in metrics.splitlines() if "outbox" in l])
except Exception as ex:  # noqa: BLE001
    check("metrics readable", False, ex)
proc[0].send_signal(signal.SIGTERM)
proc[0].wait(timeout=20)
for f in failures:
    print("FAIL:", f)
print(f"mail: {len(db_paid)} paid orders over 2 kills, {len(by_order)} with a receipt, "
      f"{copies} repeated deliveries (same Message-ID)")
print(f"{checks[0] - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
