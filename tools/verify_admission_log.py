#!/usr/bin/env python3
"""Checks a performance's admission log (GET /v1/performances/{pid}/queue/audit) without trusting
the service: Python's standard library only, so anyone can read and run it.

  python3 tools/verify_admission_log.py --url https://tickets.example --performance PID
      [--position P] [--known SEQ:HASH ...] [--cafile CA.pem] [--interval-slack-ms MS]
  python3 tools/verify_admission_log.py --file entries.json [...]   (a saved {"entries": [...]})

What it checks (exit 0 when all hold, 1 with the problems listed otherwise):
  chain     entries numbered 1, 2, 3, ... without a gap; the first links to 32 zero bytes, each
            later one to the hash of the one before; every hash recomputes as
            SHA-256(prev_hash || seq || from_position || to_position || admitted_at_ms), the
            integers as 8-byte big-endian two's complement
  known     each --known SEQ:HASH (a hash seen earlier, e.g. by another buyer) is still in the log:
            the history was not rewritten since
  ranges    every entry admits (from_position, to_position] with to > from; the ranges never
            overlap and leave no position out (from 0 to the last one admitted); ordered by
            position, admission times never go backwards (nobody behind was let in before
            somebody ahead)
  rate      an entry admits at most admit_per_interval positions that someone held (the range
            minus `skipped`, the places nobody held), and admissions come at least interval_ms
            apart (minus --interval-slack-ms for the ticking processes' clocks; default 50)
  position  with --position P: the entry whose range holds P (your ticket's position)
"""
import argparse, hashlib, json, ssl, sys, urllib.parse, urllib.request

ZERO = "0" * 64


def entry_hash(prev_hash, seq, lo, hi, at_ms):
    data = bytes.fromhex(prev_hash)
    for v in (seq, lo, hi, at_ms):
        data += int(v).to_bytes(8, "big", signed=True)
    return hashlib.sha256(data).hexdigest()


def fetch(base, perf, cafile=None, timeout=30):
    """Every entry of the log, page by page (`after` = the last sequence number read)."""
    ctx = ssl.create_default_context(cafile=cafile) if base.startswith("https:") else None
    entries, after = [], 0
    while True:
        url = (f"{base.rstrip('/')}/v1/performances/{urllib.parse.quote(perf, safe='')}"
               f"/queue/audit?after={after}")
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
            page = json.load(r)["entries"]
        if not page:
            return entries
        if page[-1]["seq"] <= after:  # a page that does not move on would loop for ever
            raise ValueError(f"page after {after} ends at seq {page[-1]['seq']}")
        entries += page
        after = page[-1]["seq"]


def verify(entries, known=(), slack_ms=50):
    """The problems found, as sentences (empty: the log holds)."""
    problems = []
    prev = ZERO
    for i, e in enumerate(entries):
        want_seq = i + 1
        if e["seq"] != want_seq:
            problems.append(f"entry {i}: seq {e['seq']}, expected {want_seq} (an entry is missing)")
        if e["prev_hash"] != prev:
            problems.append(f"entry {e['seq']}: prev_hash does not link to the entry before")
        h = entry_hash(e["prev_hash"], e["seq"], e["from_position"], e["to_position"],
                       e["admitted_at_ms"])
        if h != e["hash"]:
            problems.append(f"entry {e['seq']}: hash does not match its fields")
        prev = e["hash"]
    by_seq = {e["seq"]: e["hash"] for e in entries}
    for k in known:
        seq, _, h = k.partition(":")
        if by_seq.get(int(seq)) != h.lower():
            problems.append(f"known entry {seq}: the log no longer has hash {h}")
    for e in entries:
        n = e["to_position"] - e["from_position"]
        if n <= 0:
            problems.append(f"entry {e['seq']}: empty or reversed range "
                            f"({e['from_position']}, {e['to_position']}]")
        if not 0 <= e.get("skipped", 0) <= max(n, 0):
            problems.append(f"entry {e['seq']}: skipped {e.get('skipped')} outside the range")
        limit = e.get("admit_per_interval", 0)
        if limit and n - e.get("skipped", 0) > limit:
            problems.append(f"entry {e['seq']}: admitted {n - e.get('skipped', 0)} places, "
                            f"at most {limit} per interval")
    ordered = sorted(entries, key=lambda e: (e["from_position"], e["seq"]))
    if ordered and ordered[0]["from_position"] != 0:
        problems.append(f"positions (0, {ordered[0]['from_position']}] are in no entry")
    for a, b in zip(ordered, ordered[1:]):
        if b["from_position"] < a["to_position"]:
            problems.append(f"entries {a['seq']} and {b['seq']} overlap")
        elif b["from_position"] > a["to_position"]:
            problems.append(f"positions ({a['to_position']}, {b['from_position']}] are in no entry")
        if b["admitted_at_ms"] < a["admitted_at_ms"]:
            problems.append(f"entry {b['seq']} (positions from {b['from_position']}) admitted "
                            f"before entry {a['seq']} (positions from {a['from_position']})")
    timed = sorted(entries, key=lambda e: (e["admitted_at_ms"], e["seq"]))
    for a, b in zip(timed, timed[1:]):
        interval = b.get("interval_ms", 0)
        gap = b["admitted_at_ms"] - a["admitted_at_ms"]
        if interval and gap < interval - slack_ms:
            problems.append(f"entry {b['seq']}: {gap} ms after entry {a['seq']}, interval "
                            f"{interval} ms")
    return problems


def admitting_entry(entries, position):
    return next((e for e in entries if e["from_position"] < position <= e["to_position"]), None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="the service's base URL")
    src.add_argument("--file", help="a saved log: {\"entries\": [...]}")
    ap.add_argument("--performance", help="the performance id (with --url)")
    ap.add_argument("--position", type=int, help="a ticket's position to find")
    ap.add_argument("--known", action="append", default=[], metavar="SEQ:HASH")
    ap.add_argument("--cafile", help="CA certificate to trust for https")
    ap.add_argument("--interval-slack-ms", type=int, default=50)
    a = ap.parse_args()
    if a.url:
        if not a.performance:
            ap.error("--url needs --performance")
        entries = fetch(a.url, a.performance, a.cafile)
    else:
        with open(a.file, encoding="utf-8") as f:
            entries = json.load(f)["entries"]
    problems = verify(entries, a.known, a.interval_slack_ms)
    admitted = sum(e["to_position"] - e["from_position"] for e in entries)
    print(f"{len(entries)} entries, positions admitted: {admitted}"
          + (f", head {entries[-1]['seq']}:{entries[-1]['hash']}" if entries else ""))
    if a.position is not None:
        e = admitting_entry(entries, a.position)
        if e:
            print(f"position {a.position}: admitted by entry {e['seq']} at {e['admitted_at']}")
        else:
            problems.append(f"position {a.position}: in no entry (not admitted yet?)")
    for p in problems:
        print("PROBLEM:", p)
    print("the log holds" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
