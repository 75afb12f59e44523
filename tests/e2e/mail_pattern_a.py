#!/usr/bin/env python3
"""Pattern A's e-mails through faults: buyers purchase in a burst against an API process while the
worker is killed (SIGKILL) and restarted, RabbitMQ is stopped and started again, and the SMTP
server refuses for a while; then half of the orders are refunded while the worker is killed once
more. Afterwards every paid order has exactly one receipt and every refunded order exactly one
refund e-mail in the SMTP sink (one Message-ID per order and kind: a copy sent again after a
crash between the send and its record carries the same Message-ID, so the receiver drops it; such
copies are reported), nothing is left in the outbox, and a poison message (an order.paid of an
order that does not exist) ends in the parking queue after its attempts, counted in the worker's
/metrics.
Usage: mail_pattern_a.py SERVICE_BIN SERVERS_ENV RABBITMQ_ENV"""
import os, signal, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor

import api
import purchase

BIN, SERVERS_ENV, RMQ_ENV = sys.argv[1:4]
SERVERS_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support", "servers.sh")
BUYERS, SEATS, ADMIN = 40, 40, "e2e-admin"
MAX_ATTEMPTS = 20


def read_env(path):
    out = {}
    with open(path) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def free_port():
    import socket
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    return p


env = {**os.environ, **read_env(SERVERS_ENV), **read_env(RMQ_ENV)}
PG, MAIL_DIR = env["TICKETING_PG_URL"], env["TK_MAIL_DIR"]
env.update({
    "TICKETING_HTTP_HOST": "127.0.0.1", "TICKETING_THREADS": "2",
    "TICKETING_SECRET": "e2e-secret-0123456789abcdef0123456789abcdef", "TICKETING_ADMIN_TOKEN": ADMIN,
    "TICKETING_ARGON2_OPSLIMIT": "1", "TICKETING_ARGON2_MEMLIMIT_KIB": "8192",
    "TICKETING_ARGON2_PER_ADDRESS": "256", "TICKETING_ARGON2_QUEUE": "256",
    "TICKETING_RATE_PER_ADDRESS": "0", "TICKETING_SIGNUPS_PER_MINUTE": "100000",
    "TICKETING_ACCESS_LOG": "0", "TICKETING_DRAIN_DELAY_MS": "200",
    # A killed worker's unconfirmed claims come back within seconds; failed deliveries wait briefly
    # in the broker's retry queue, and enough of them that a few seconds of SMTP refusals park
    # nothing.
    "TICKETING_OUTBOX_LEASE_MS": "6000", "TICKETING_SMTP_TIMEOUT_MS": "5000",
    "TICKETING_OUTBOX_MAX_ATTEMPTS": str(MAX_ATTEMPTS), "TICKETING_AMQP_RETRY_DELAY_MS": "400",
})
tmp = tempfile.mkdtemp(prefix="tk-mail-a-")
procs = {}
ports = {name: (free_port(), free_port()) for name in ("api", "worker")}
BASE = f"http://127.0.0.1:{ports['api'][0]}"
WORKER_OPS = f"http://127.0.0.1:{ports['worker'][1]}"


def start(name, role):
    port, ops = ports[name]
    e = {**env, "TICKETING_ROLE": role, "TICKETING_HTTP_PORT": str(port), "TICKETING_OPS_PORT": str(ops)}
    log = open(os.path.join(tmp, name + ".log"), "ab")
    procs[name] = subprocess.Popen([BIN], stdout=log, stderr=log, env=e)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ops}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        if procs[name].poll() is not None:
            sys.exit(f"{name} died at start")
        time.sleep(0.1)
    sys.exit(f"{name} not ready")


def kill(name):
    procs[name].send_signal(signal.SIGKILL)
    procs[name].wait()


def servers(cmd, env_file):
    subprocess.run(["bash", SERVERS_SH, cmd, os.path.dirname(env_file)], check=True,
                   stdout=subprocess.DEVNULL)


raw_call = api.make_call(BASE)


def call(method, path, body=None, headers=None):
    try:
        return raw_call(method, path, body, headers)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, {}, {}


failures, checks = [], [0]


def check(name, cond, detail=""):
    checks[0] += 1
    if not cond:
        failures.append(f"{name}: {detail}")


def worker_metrics():
    try:
        with urllib.request.urlopen(WORKER_OPS + "/metrics", timeout=5) as r:
            return r.read().decode()
    except Exception:  # noqa: BLE001 (restarting)
        return ""


def drained(orders, kind):
    """Waits until the outbox is empty and each of `orders` has a message of `kind`."""
    deadline = time.time() + 120
    while time.time() < deadline:
        box = purchase.mailbox(MAIL_DIR, orders)
        have = {o for o, v in box.items() if any(k == kind for _, k in v)}
        if api.psql(PG, "SELECT count(*) FROM outbox") == "0" and have >= orders:
            return box
        time.sleep(0.5)
    return purchase.mailbox(MAIL_DIR, orders)


def one_each(box, orders, kind):
    got = {o: {mid for mid, k in v if k == kind} for o, v in box.items()}
    missing = sorted(o for o in orders if not got.get(o))
    check(f"every order has its {kind} e-mail", not missing, missing)
    dups = {o: ids for o, ids in got.items() if o in orders and len(ids) > 1}
    check(f"one {kind} e-mail per order (one Message-ID each)", not dups, dups)
    return sum(sum(1 for _, k in v if k == kind) for o, v in box.items() if o in orders) - len(orders)


try:
    start("worker", "worker")
    start("api", "api")
    perf = purchase.open_sale(call, ADMIN, SEATS, "장애 메일 콘서트")
    paid, sessions, lock = [], {}, threading.Lock()

    def buyer(i):
        order, headers = purchase.buy(call, perf, i)
        if order:
            with lock:
                paid.append(order)
                sessions[order] = headers

    def faults():
        # Each fault once a few more orders were paid (their messages in flight).
        for target, fault in ((8, "worker"), (16, "broker"), (24, "smtp")):
            deadline = time.time() + 60
            while len(paid) < target and time.time() < deadline:
                time.sleep(0.01)
            if fault == "worker":
                kill("worker"); start("worker", "worker")
            elif fault == "broker":
                servers("rabbitmq-halt", RMQ_ENV); time.sleep(1); servers("rabbitmq-resume", RMQ_ENV)
            else:
                servers("smtp-refuse", SERVERS_ENV); time.sleep(2); servers("smtp-accept", SERVERS_ENV)

    f = threading.Thread(target=faults)
    f.start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(buyer, range(BUYERS)))
    f.join()
    db_paid = set(api.psql(PG, f"SELECT id FROM orders WHERE performance_id = '{perf}' AND status = 'paid'").split())
    check("orders paid through the faults", len(db_paid) >= 30, len(db_paid))
    check("every acknowledged payment is a paid order", set(paid) <= db_paid, set(paid) - db_paid)
    receipt_copies = one_each(drained(db_paid, "receipt"), db_paid, "receipt")

    # Refunds of half the orders, the worker killed while they are handled.
    to_refund = sorted(db_paid)[: len(db_paid) // 2]
    for n, oid in enumerate(to_refund):
        s, b, _ = call("POST", f"/v1/orders/{oid}/refund", None,
                       {**sessions[oid], "Idempotency-Key": f"refund-{oid}"})
        check("refund accepted", s == 202, (oid, s, b))
        if n == len(to_refund) // 2:
            kill("worker"); start("worker", "worker")
    refunded = set(to_refund)
    box = drained(refunded, "refund")
    refund_copies = one_each(box, refunded, "refund")
    deadline = time.time() + 60
    while time.time() < deadline:
        n = api.psql(PG, f"SELECT count(*) FROM orders WHERE performance_id = '{perf}' AND status = 'refunded'")
        if n == str(len(refunded)):
            break
        time.sleep(0.5)
    check("refunded orders", n == str(len(refunded)), n)
    check("kinds", {k for v in box.values() for _, k in v} <= {"receipt", "refund"}, box)

    # A poison message: retried MAX_ATTEMPTS times through the broker, then parked and counted.
    api.psql(PG, """INSERT INTO outbox (topic, payload) VALUES ('order.paid',
      '{"order_id": "ord_poison", "account_id": "acc_none", "performance_id": "prf_none",
        "total_cents": 1, "currency": "KRW", "ticket_ids": []}'::jsonb)""")
    want = 'bus_messages_parked_total{topic="order.paid"} 1'
    deadline = time.time() + 90
    while time.time() < deadline and want not in worker_metrics():
        time.sleep(0.5)
    m = worker_metrics()
    check("poison message parked, in /metrics", want in m,
          [l for l in m.splitlines() if l.startswith("bus_messages")])
    check("outbox empty", api.psql(PG, "SELECT count(*) FROM outbox") == "0",
          api.psql(PG, "SELECT count(*) FROM outbox"))
    print(f"mail (pattern A): {len(db_paid)} paid orders through a worker kill, a broker restart and "
          f"SMTP refusals; {len(refunded)} refunded across a second kill; repeated deliveries "
          f"(same Message-ID): {receipt_copies} receipts, {refund_copies} refunds")
finally:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    servers("smtp-accept", SERVERS_ENV)
    if failures:
        for name in procs:
            print(f"--- {name} log (tail)")
            with open(os.path.join(tmp, name + ".log"), "rb") as fh:
                print(fh.read()[-3000:].decode(errors="replace"))
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)

for x in failures:
    print("FAIL:", x)
print(f"{checks[0] - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
