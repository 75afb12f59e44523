#!/usr/bin/env python3
"""Small flash crowd with a pre-queue and presence: pre-seeded buyers race for a small venue
through bench/loadgen (the real HTTP API, keep-alive, asynchronous). The pre-queue opens as the
crowd arrives and the sale 8 s later, so most of the crowd joins the pre-queue and is drawn into a
random order at the opening, the rest lines up behind it; 5% of the buyers stop polling once they
have a position and never come back (presence timeout 10 s). Correctness only, never speed:
- loadgen --assert: every seat sold exactly once, one charge per paid order, admissions in
  position order (0 inversions), every buyer knows its place, no sale to a buyer passed over;
- the published order: the shuffle recomputed from the revealed seed and the entry list
  (tools/verify_prequeue.py) gives every entrant the position its status showed, later joins come
  behind it, and the admission log passes tools/verify_admission_log.py with every admitted
  position in it;
- presence did its work: some places of the buyers who went away poll `abandoned`.
Usage: flash.py BASE_URL ADMIN_TOKEN LOADGEN SEED [BUYERS SEATS]
Environment: the service's TICKETING_PG_URL, TICKETING_REDIS_URL, TICKETING_SECRET."""
import json, os, subprocess, sys, tempfile, time

import api
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import verify_admission_log  # noqa: E402
import verify_prequeue  # noqa: E402

BASE, ADMIN, LOADGEN, SEED = sys.argv[1:5]
BUYERS = int(sys.argv[5]) if len(sys.argv) > 5 else 3000
SEATS = int(sys.argv[6]) if len(sys.argv) > 6 else 300
call = api.make_call(BASE)
A = {"Authorization": "Bearer " + ADMIN}
check = api.Checks()


def must(what, status, body, want):
    if status != want:
        sys.exit(f"FAIL: {what}: {status} {body}")


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


with tempfile.TemporaryDirectory() as tmp:
    # The buyers first: the pre-queue opens seconds after the performance is created.
    tokens = os.path.join(tmp, "tokens")
    env = dict(os.environ, TICKETING_BENCH_SEED="1")
    r = subprocess.run([SEED, "--count", str(BUYERS), "--out", tokens, "--prefix", f"flash{int(time.time())}"],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: seed: {r.returncode}\n{r.stdout}\n{r.stderr}")

    per_row = 30
    rows = [{"label": str(i + 1), "seats": min(per_row, SEATS - i * per_row), "grade": "A"}
            for i in range((SEATS + per_row - 1) // per_row)]
    # Three blocks (one named with a space and Hangul, so the loadgen's ?section= must encode
    # it): buyers choose a block from GET .../sections, then read only that block's seats.
    blocks = [{"name": name, "rows": rows[i::3]} for i, name in enumerate(["A", "B 2", "\uad6c\uc5ed C"])]
    s, v, _ = call("POST", "/v1/admin/venues", {"name": "Flash Hall", "sections": blocks}, A)
    must("venue", s, v, 201)
    s, e, _ = call("POST", "/v1/admin/events", {"title": "Flash", "venue_id": v["id"]}, A)
    must("event", s, e, 201)
    # The pre-queue must open in the future (its seed was committed before anybody could join);
    # the sale opens 8 s later by itself (opening it by hand would draw the pre-queue at once).
    queue_opens = int(time.time()) + 2
    sale_opens = queue_opens + 8
    # Fast admission (200/s). Holds outlive the payment timeout plus its 2 s margin (the service
    # runs with 1 s); the ones buyers let expire keep the sale open 10 s and more (seats held
    # again by the next such buyer), so admissions go on past the presence window and pass over
    # the places of buyers who went away; those admitted before are given back as no-shows.
    s, p, _ = call("POST", f"/v1/admin/events/{e['id']}/performances", {
        "starts_at": rfc3339(time.time() + 86400 * 30), "queue_opens_at": rfc3339(queue_opens),
        "sale_opens_at": rfc3339(sale_opens), "max_seats_per_order": 4, "hold_ttl_seconds": 10,
        "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
        "queue": {"admit_per_interval": 20, "interval_ms": 100, "max_active": 100000,
                  "access_ttl_seconds": 600, "presence_timeout_seconds": 10}}, A)
    must("performance", s, p, 201)
    perf = p["id"]
    s, f, _ = call("GET", f"/v1/performances/{perf}/queue/fairness")
    must("fairness before the pre-queue", s, f, 200)
    commitment = f["seed_commitment"]

    report = os.path.join(tmp, "report.json")
    positions = os.path.join(tmp, "positions")
    # 350 arrivals/s: most of the crowd joins during the pre-queue (a PostgreSQL row each, written
    # before the answer: a loaded machine lets more of them in after the opening).
    cmd = [LOADGEN, "--url", BASE, "--perf", perf, "--tokens", tokens, "--scenario", "flash",
           "--buyers", str(BUYERS), "--mode", "open", "--rate", "350", "--connections", "64",
           "--poll-scale", "0.25", "--seat-retry", "2", "--timeout", "150", "--p-silent", "0.05",
           "--admin-token", ADMIN, "--pg-url", os.environ["TICKETING_PG_URL"],
           "--redis-url", os.environ["TICKETING_REDIS_URL"], "--json", report,
           "--positions", positions, "--assert", "--quiet"]
    print(" ".join(cmd), flush=True)
    rc = subprocess.run(cmd).returncode
    check("loadgen --assert", rc == 0, f"exit {rc}")
    if not os.path.exists(report) or not os.path.exists(positions):
        sys.exit("FAIL: loadgen wrote no report")
    with open(report, encoding="utf-8") as fh:
        rep = json.load(fh)
    with open(positions, encoding="utf-8") as fh:
        # buyer position entry_id admitted
        seen = [(int(b), int(pos), entry, adm == "1") for b, pos, entry, adm in map(str.split, fh)]

# The published order against what the buyers were told.
fairness, entries = verify_prequeue.fetch(BASE, perf)
check("pre-queue answers hold", not verify_prequeue.verify(fairness, entries, commitment),
      verify_prequeue.verify(fairness, entries, commitment)[:5])
check("seed revealed", fairness.get("seed") is not None, fairness)
told = {entry: pos for _, pos, entry, _ in seen if entry != "-"}
check("one entry per buyer", len(told) == sum(1 for x in seen if x[2] != "-"), len(told))
if fairness.get("seed") is not None:
    drawn = verify_prequeue.positions(bytes.fromhex(fairness["seed"]), entries)
    missing = sorted(set(drawn) - set(told))
    unknown = sorted(set(told) - set(drawn))
    wrong = sorted((e, told[e], drawn[e]) for e in set(told) & set(drawn) if told[e] != drawn[e])
    check("every published entry was told its position", not missing, missing[:10])
    check("every buyer's entry is published", not unknown, unknown[:10])
    check("positions told = the shuffle from the revealed seed", not wrong,
          [f"entry {e}: told {t}, drawn {d}" for e, t, d in wrong[:10]])
later = [pos for _, pos, entry, _ in seen if entry == "-"]
check("joins after the opening come behind the pre-queue", all(x > len(entries) for x in later),
      sorted(later)[:10])
all_pos = [pos for _, pos, _, _ in seen]
check("no position given twice", len(all_pos) == len(set(all_pos)),
      len(all_pos) - len(set(all_pos)))
# How many join before the opening depends on the machine's speed: only a pre-queue too small for
# the checks above to mean anything fails.
check("a pre-queue worth checking", len(entries) >= BUYERS // 10,
      f"{len(entries)} entries, {len(later)} joins after the opening")
log = verify_admission_log.fetch(BASE, perf)
check("admission log holds", log and not verify_admission_log.verify(log),
      verify_admission_log.verify(log)[:5])
unlogged = sorted(pos for _, pos, _, adm in seen
                  if adm and not verify_admission_log.admitting_entry(log, pos))
check("every admitted position is in the admission log", not unlogged, unlogged[:10])
pres = rep.get("presence") or {}
check("buyers went away with a place", pres.get("went_away", 0) > 0, pres)
check("presence passed places over", pres.get("abandoned", 0) > 0, pres)
# Buyers poll at a quarter of Retry-After, which presence caps at a third of the timeout: seen
# several times per window, none of them may be taken for gone.
check("no buyer passed over while it polled", pres.get("passed_over_while_polling") == 0, pres)
print(f"flash: {len(entries)} pre-queue entries, {len(later)} joins after the opening, "
      f"{pres.get('went_away')} went away, {pres.get('abandoned')} abandoned; "
      f"{len(log)} admission log entries")
check.finish()
