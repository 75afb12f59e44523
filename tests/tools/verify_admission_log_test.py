#!/usr/bin/env python3
"""The admission-log verifier (tools/verify_admission_log.py) accepts an honest log and names each
kind of tampering or unfairness. The chain itself is made by PostgreSQL (migration 0014); the
end-to-end races run this verifier against it."""
import copy, os, sys, unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import verify_admission_log as v  # noqa: E402


def chain(ranges, start_ms=1_700_000_000_000, interval=1000, limit=100, skipped=None):
    """An honest log of (from, to] ranges admitted one interval apart."""
    out, prev = [], v.ZERO
    for i, (lo, hi) in enumerate(ranges):
        at = start_ms + i * interval
        h = v.entry_hash(prev, i + 1, lo, hi, at)
        out.append({"seq": i + 1, "from_position": lo, "to_position": hi, "admitted_at_ms": at,
                    "admitted_at": "-", "skipped": (skipped or {}).get(i + 1, 0),
                    "admit_per_interval": limit, "interval_ms": interval,
                    "prev_hash": prev, "hash": h})
        prev = h
    return out


def relink(entries):
    """Recomputes every link, as someone rewriting history would."""
    prev = v.ZERO
    for e in entries:
        e["prev_hash"] = prev
        e["hash"] = prev = v.entry_hash(prev, e["seq"], e["from_position"], e["to_position"],
                                        e["admitted_at_ms"])
    return entries


class VerifierTest(unittest.TestCase):
    def setUp(self):
        self.log = chain([(0, 100), (100, 200), (200, 250)])

    def test_an_honest_log_holds(self):
        self.assertEqual(v.verify(self.log), [])
        self.assertEqual(v.admitting_entry(self.log, 150)["seq"], 2)
        self.assertEqual(v.admitting_entry(self.log, 100)["seq"], 1)
        self.assertIsNone(v.admitting_entry(self.log, 251))

    def test_the_hash_follows_the_documented_encoding(self):
        import hashlib, struct
        data = bytes(32) + struct.pack(">qqqq", 1, 0, 100, 1_700_000_000_000)
        self.assertEqual(self.log[0]["hash"], hashlib.sha256(data).hexdigest())

    def test_a_changed_field_breaks_its_hash(self):
        t = copy.deepcopy(self.log)
        t[1]["to_position"] = 150
        self.assertTrue(any("hash does not match" in p for p in v.verify(t)))

    def test_a_removed_entry_breaks_the_chain(self):
        t = copy.deepcopy(self.log)
        del t[1]
        problems = v.verify(t)
        self.assertTrue(any("missing" in p for p in problems), problems)
        self.assertTrue(any("does not link" in p for p in problems), problems)

    def test_a_rewritten_history_is_found_by_a_known_hash(self):
        seen = f"2:{self.log[1]['hash']}"
        t = copy.deepcopy(self.log)
        t[1]["admitted_at_ms"] += 10
        relink(t)
        self.assertEqual(v.verify(t), [])  # consistent in itself...
        self.assertTrue(any("no longer has" in p for p in v.verify(t, known=[seen])))
        self.assertEqual(v.verify(self.log, known=[seen]), [])

    def test_overlapping_ranges(self):
        t = relink(chain([(0, 100), (90, 200)]))
        self.assertTrue(any("overlap" in p for p in v.verify(t)))

    def test_a_batch_left_out(self):
        t = relink(chain([(0, 100), (150, 200)]))
        self.assertTrue(any("(100, 150] are in no entry" in p for p in v.verify(t)))
        t = relink(chain([(50, 100)]))
        self.assertTrue(any("(0, 50] are in no entry" in p for p in v.verify(t)))

    def test_somebody_behind_admitted_first(self):
        t = chain([(0, 100), (100, 200)])
        t[0]["from_position"], t[0]["to_position"] = 100, 200
        t[1]["from_position"], t[1]["to_position"] = 0, 100
        relink(t)
        self.assertTrue(any("admitted before" in p for p in v.verify(t)))

    def test_a_late_recorded_entry_is_fair(self):
        # Recorded after a later tick (PostgreSQL was unreachable), admitted in its turn.
        t = chain([(0, 100), (100, 200), (200, 300)])
        t[1], t[2] = t[2], t[1]
        t[1]["seq"], t[2]["seq"] = 2, 3
        relink(t)
        self.assertEqual(v.verify(t), [])

    def test_over_the_rate(self):
        self.assertTrue(any("at most 100" in p for p in v.verify(relink(chain([(0, 101)])))))
        # Places nobody held do not count.
        self.assertEqual(v.verify(chain([(0, 130)], skipped={1: 30})), [])
        self.assertTrue(any("outside" in p for p in v.verify(chain([(0, 10)], skipped={1: 11}))))

    def test_too_soon_after_the_one_before(self):
        t = chain([(0, 100), (100, 200)])
        t[1]["admitted_at_ms"] = t[0]["admitted_at_ms"] + 900
        relink(t)
        self.assertTrue(any("ms after" in p for p in v.verify(t)))
        self.assertEqual(v.verify(t, slack_ms=150), [])


if __name__ == "__main__":
    unittest.main()
