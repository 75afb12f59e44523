#!/usr/bin/env python3
"""Receipt e-mails across a crash: buyers purchase in a burst while the service is killed
(SIGKILL) and restarted twice; afterwards every paid order has its receipt in the SMTP sink and
no order has two different receipts. Counted by X-Ticketing-Order in the sink's folder, which
keeps every accepted delivery: a copy sent again after a crash between the SMTP send and its
record must carry the same Message-ID (so the receiver drops it), and such copies are reported.
Usage: mail.py SERVICE_BIN PORT OPS_PORT ADMIN_TOKEN PG_URL MAIL_DIR LOG"""
import signal, subprocess, sys, threading, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor

import api
import purchase

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


start()
PERF = purchase.open_sale(call, ADMIN, SEATS, "메일 콘서트")
paid = []
lock = threading.Lock()


def buyer(i):
    order, _ = purchase.buy(call, PERF, i)
    if order:
        with lock:
            paid.append(order)


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
    return purchase.mailbox(MAIL_DIR, db_paid)


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
