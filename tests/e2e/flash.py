#!/usr/bin/env python3
"""Small flash crowd: pre-seeded buyers race for a small venue through bench/loadgen (the real
HTTP API, keep-alive, asynchronous); loadgen --assert then checks correctness only -- every seat
sold exactly once, admissions in join order (0 inversions), one charge per paid order -- never speed.
Usage: flash.py BASE_URL ADMIN_TOKEN LOADGEN SEED [BUYERS SEATS]
Environment: the service's TICKETING_PG_URL, TICKETING_REDIS_URL, TICKETING_SECRET."""
import os, subprocess, sys, tempfile, time

import api

BASE, ADMIN, LOADGEN, SEED = sys.argv[1:5]
BUYERS = int(sys.argv[5]) if len(sys.argv) > 5 else 3000
SEATS = int(sys.argv[6]) if len(sys.argv) > 6 else 300
call = api.make_call(BASE)
A = {"Authorization": "Bearer " + ADMIN}


def must(what, status, body, want):
    if status != want:
        sys.exit(f"FAIL: {what}: {status} {body}")


per_row = 30
rows = [{"label": str(i + 1), "seats": min(per_row, SEATS - i * per_row), "grade": "A"}
        for i in range((SEATS + per_row - 1) // per_row)]
# Three blocks (one named with a space and Hangul, so the loadgen's ?section= must encode it):
# buyers choose a block from GET .../sections, then read only that block's seats.
blocks = [{"name": name, "rows": rows[i::3]} for i, name in enumerate(["A", "B 2", "\uad6c\uc5ed C"])]
s, v, _ = call("POST", "/v1/admin/venues", {"name": "Flash Hall", "sections": blocks}, A)
must("venue", s, v, 201)
s, e, _ = call("POST", "/v1/admin/events", {"title": "Flash", "venue_id": v["id"]}, A)
must("event", s, e, 201)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
# Fast admission (200/s), short holds so the ones buyers let expire come back within the test
# (the service runs with a 1 s payment timeout: a hold must outlive it plus a 2 s margin).
s, p, _ = call("POST", f"/v1/admin/events/{e['id']}/performances", {
    "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 4, "hold_ttl_seconds": 8,
    "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
    "queue": {"admit_per_interval": 20, "interval_ms": 100, "max_active": 100000,
              "access_ttl_seconds": 600}}, A)
must("performance", s, p, 201)
perf = p["id"]
s, b, _ = call("PATCH", f"/v1/admin/performances/{perf}", {"status": "on_sale"}, A)
must("on sale", s, b, 200)

with tempfile.TemporaryDirectory() as tmp:
    tokens = os.path.join(tmp, "tokens")
    env = dict(os.environ, TICKETING_BENCH_SEED="1")
    r = subprocess.run([SEED, "--count", str(BUYERS), "--out", tokens, "--prefix", f"flash{int(time.time())}"],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: seed: {r.returncode}\n{r.stdout}\n{r.stderr}")
    report = os.path.join(tmp, "report.json")
    cmd = [LOADGEN, "--url", BASE, "--perf", perf, "--tokens", tokens, "--scenario", "flash",
           "--buyers", str(BUYERS), "--mode", "open", "--rate", "1000", "--connections", "64",
           "--poll-scale", "0.25", "--seat-retry", "2", "--timeout", "120",
           "--admin-token", ADMIN, "--pg-url", os.environ["TICKETING_PG_URL"],
           "--redis-url", os.environ["TICKETING_REDIS_URL"], "--json", report, "--assert", "--quiet"]
    print(" ".join(cmd), flush=True)
    rc = subprocess.run(cmd).returncode
    sys.exit(rc)
