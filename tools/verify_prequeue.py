#!/usr/bin/env python3
"""Recomputes a performance's pre-queue shuffle (sha256-ctr-fisher-yates-v1) from the revealed seed
and the published entry list, without trusting the service: Python's standard library only, so
anyone can read and run it.

  python3 tools/verify_prequeue.py --url https://tickets.example --performance PID
      [--commitment HEX] [--entry ID [--position P]] [--print] [--cafile CA.pem]
  python3 tools/verify_prequeue.py --fairness fairness.json --entries entries.json [...]
      (saved answers of GET .../queue/fairness and GET .../queue/fairness/entries)

What it checks (exit 0 when all hold, 1 with the problems listed otherwise, 2 for a usage error or
an answer that could not be fetched or read):
  shuffle     the answer names a shuffle this tool knows (sha256-ctr-fisher-yates-v1)
  commitment  SHA-256 of the seed's 32 bytes is the published seed_commitment; with
              --commitment HEX (the commitment you saw before the pre-queue opened), that it is
              still the published one: the seed was fixed before anybody joined
  entries     the list is sorted ascending, without duplicates, every id 16 lowercase hex digits,
              and (once the seed is revealed: the list is final) as long as pre_queue_size
  position    with --entry ID: the position recomputed for that entry; with --position P as well,
              that it is P (the position your ticket's status shows)

The shuffle: block k (k = 0, 1, ...) of a byte stream is SHA-256(seed || k as 8 bytes big-endian);
draws take the stream's next 8 bytes as a big-endian integer x. For i = n-1 down to 1, with
bound = i + 1, draws are repeated until x < 2^64 - (2^64 mod bound), then the entries at i and
x mod bound (in the list being shuffled, which starts as the sorted list) are swapped. The entry
at index i of the result gets position i + 1. Until the seed is revealed (null) only the
commitment and the list can be checked.
"""
import argparse, hashlib, json, re, ssl, sys, urllib.error, urllib.parse, urllib.request

SHUFFLE = "sha256-ctr-fisher-yates-v1"
ENTRY_ID = re.compile(r"[0-9a-f]{16}")
HEX64 = re.compile(r"[0-9a-f]{64}")
TWO64 = 1 << 64


class Stream:
    """The shuffle's random bytes, 8 at a time: SHA-256(seed || uint64_be(k)) for k = 0, 1, ..."""

    def __init__(self, seed):
        if len(seed) != 32:
            raise ValueError("the seed is 32 bytes")
        self.seed, self.block, self.buf, self.pos = bytes(seed), 0, b"", 32

    def next(self):
        if self.pos == 32:
            self.buf = hashlib.sha256(self.seed + self.block.to_bytes(8, "big")).digest()
            self.block, self.pos = self.block + 1, 0
        x = int.from_bytes(self.buf[self.pos:self.pos + 8], "big")
        self.pos += 8
        return x

    def below(self, bound):
        """Uniform in [0, bound) by rejection: no modulo bias."""
        limit = TWO64 - TWO64 % bound
        while True:
            x = self.next()
            if x < limit:
                return x % bound


def shuffle_order(seed, n):
    """Element i: the index in the sorted entry list of the entry that gets position i + 1."""
    a, s = list(range(n)), Stream(seed)
    for i in range(n - 1, 0, -1):
        j = s.below(i + 1)
        a[i], a[j] = a[j], a[i]
    return a


def positions(seed, entries):
    """{entry_id: position} for a sorted entry list."""
    return {entries[k]: i + 1 for i, k in enumerate(shuffle_order(seed, len(entries)))}


def fetch(base, perf, cafile=None, timeout=30):
    """The two public answers: (fairness, entry list)."""
    ctx = ssl.create_default_context(cafile=cafile) if base.startswith("https:") else None
    root = f"{base.rstrip('/')}/v1/performances/{urllib.parse.quote(perf, safe='')}/queue/fairness"
    with urllib.request.urlopen(root, timeout=timeout, context=ctx) as r:
        fairness = json.load(r)
    with urllib.request.urlopen(root + "/entries", timeout=timeout, context=ctx) as r:
        entries = json.load(r)["entries"]
    return fairness, entries


def verify(fairness, entries, commitment=None):
    """The problems found, as sentences (empty: the pre-queue's answers hold)."""
    problems = []
    if fairness.get("shuffle") != SHUFFLE:
        problems.append(f"unknown shuffle {fairness.get('shuffle')!r} (this tool knows {SHUFFLE})")
    published = fairness.get("seed_commitment")
    if not isinstance(published, str) or not HEX64.fullmatch(published):
        problems.append(f"seed_commitment {published!r} is not 64 lowercase hex digits")
    if commitment is not None and commitment.lower() != published:
        problems.append(f"seed_commitment {published} is not the commitment seen before "
                        f"({commitment.lower()}): the seed was changed")
    seed = fairness.get("seed")
    if seed is not None:
        if not isinstance(seed, str) or not HEX64.fullmatch(seed.lower()):
            problems.append(f"seed {seed!r} is not 32 bytes in hex")
        elif hashlib.sha256(bytes.fromhex(seed)).hexdigest() != published:
            problems.append("SHA-256 of the seed is not the seed_commitment")
    bad = [e for e in entries if not isinstance(e, str) or not ENTRY_ID.fullmatch(e)]
    for e in bad[:10]:
        problems.append(f"entry {e!r} is not 16 lowercase hex digits")
    if len(bad) > 10:
        problems.append(f"... and {len(bad) - 10} more entries that are not 16 hex digits")
    if not bad:
        for a, b in zip(entries, entries[1:]):
            if a == b:
                problems.append(f"entry {a} is listed twice")
            elif a > b:
                problems.append(f"entries not sorted: {a} before {b}")
    size = fairness.get("pre_queue_size")
    if seed is not None and size != len(entries):
        problems.append(f"{len(entries)} entries listed, pre_queue_size {size}")
    return problems


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="the service's base URL")
    src.add_argument("--fairness", help="a saved answer of GET .../queue/fairness")
    ap.add_argument("--entries", help="a saved answer of GET .../queue/fairness/entries "
                    "(with --fairness)")
    ap.add_argument("--performance", help="the performance id (with --url)")
    ap.add_argument("--commitment", help="the seed commitment seen before the pre-queue opened")
    ap.add_argument("--entry", help="an entry id (your ticket's entry_id) to find the position of")
    ap.add_argument("--position", type=int, help="the position --entry should have")
    ap.add_argument("--print", action="store_true", help="print the order: entry_id position")
    ap.add_argument("--cafile", help="CA certificate to trust for https")
    a = ap.parse_args()
    if a.url and not a.performance:
        ap.error("--url needs --performance")
    if a.fairness and not a.entries:
        ap.error("--fairness needs --entries")
    if a.position is not None and not a.entry:
        ap.error("--position needs --entry")
    try:
        if a.url:
            fairness, entries = fetch(a.url, a.performance, a.cafile)
        else:
            fairness, entries = load(a.fairness), load(a.entries)["entries"]
        if not isinstance(fairness, dict) or not isinstance(entries, list):
            raise ValueError("unexpected shape of an answer")
    except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError) as e:
        print(f"cannot read the answers: {e}", file=sys.stderr)
        return 2
    problems = verify(fairness, entries, a.commitment)
    seed = fairness.get("seed")
    print(f"{len(entries)} entries, pre_queue_size {fairness.get('pre_queue_size')}, "
          f"commitment {fairness.get('seed_commitment')}")
    order = None
    if seed is None:
        print("the seed is not revealed yet: the shuffle has not happened")
        if a.entry or a.print:
            problems.append("no seed yet: positions cannot be recomputed")
    elif isinstance(seed, str) and HEX64.fullmatch(seed.lower()):
        order = shuffle_order(bytes.fromhex(seed), len(entries))
    if order is not None and a.print:
        for i, k in enumerate(order):
            print(entries[k], i + 1)
    if order is not None and a.entry:
        try:
            k = entries.index(a.entry)
        except ValueError:
            problems.append(f"entry {a.entry} is not in the list")
        else:
            got = order.index(k) + 1
            print(f"entry {a.entry}: position {got}")
            if a.position is not None and got != a.position:
                problems.append(f"entry {a.entry}: the shuffle gives position {got}, "
                                f"not {a.position}")
    for p in problems:
        print("PROBLEM:", p)
    print("the pre-queue holds" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
