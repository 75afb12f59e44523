#!/usr/bin/env python3
"""The pre-queue verifier (tools/verify_prequeue.py) recomputes the shuffle the service ran
(src/domain/prequeue_shuffle), accepts an honest pre-queue and names each kind of tampering. The
known answers are the ones the C++ unit test (tests/unit/domain/prequeue_shuffle_test.cpp)
checks, so the two implementations agree."""
import copy, hashlib, json, os, subprocess, sys, tempfile, unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "verify_prequeue.py")
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import verify_prequeue as v  # noqa: E402

COUNTING = bytes(range(32))
NAMED = hashlib.sha256(b"sha256-ctr-fisher-yates-v1").digest()


def prequeue(seed, n, revealed=True):
    """An honest pair of answers for n entries, and each entry's position."""
    entries = sorted(hashlib.sha256(seed + i.to_bytes(4, "big")).hexdigest()[:16]
                     for i in range(n))
    fairness = {"seed_commitment": hashlib.sha256(seed).hexdigest(),
                "seed": seed.hex() if revealed else None, "pre_queue_size": n,
                "shuffle": "sha256-ctr-fisher-yates-v1"}
    return fairness, entries, v.positions(seed, entries)


def run(*args):
    """The tool's exit status and output."""
    p = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


class KnownAnswersTest(unittest.TestCase):
    """The same figures as the C++ unit test."""

    def test_orders(self):
        self.assertEqual(v.shuffle_order(COUNTING, 10), [7, 2, 0, 6, 3, 8, 5, 9, 4, 1])
        self.assertEqual(v.shuffle_order(bytes(32), 5), [2, 1, 0, 4, 3])
        self.assertEqual(v.shuffle_order(NAMED, 20),
                         [15, 11, 2, 12, 6, 13, 7, 3, 4, 1, 17, 16, 5, 18, 9, 0, 19, 8, 10, 14])
        big = v.shuffle_order(NAMED, 1000)
        self.assertEqual(big[:10], [91, 151, 430, 14, 901, 571, 137, 189, 710, 951])
        self.assertEqual(big[-5:], [16, 763, 690, 850, 54])
        self.assertEqual(v.shuffle_order(COUNTING, 2), [0, 1])
        self.assertEqual(v.shuffle_order(COUNTING, 1), [0])
        self.assertEqual(v.shuffle_order(COUNTING, 0), [])

    def test_the_stream_and_the_rejection(self):
        s = v.Stream(COUNTING)
        raw = [s.next() for _ in range(6)]
        self.assertEqual(raw, [12238220826280364221, 4092613261126186783, 10138206965701487105,
                               13686936297923933392, 6945047847015946120, 13426042928207130598])
        # The documented encoding, byte for byte: block k = SHA-256(seed || k as 8 bytes BE).
        b1 = hashlib.sha256(COUNTING + (1).to_bytes(8, "big")).digest()
        self.assertEqual(raw[4], int.from_bytes(b1[:8], "big"))
        s = v.Stream(COUNTING)
        self.assertEqual([s.below((1 << 63) + 1) for _ in range(6)],
                         [4092613261126186783, 6945047847015946120, 1402384116349340663,
                          300893896666610643, 8315228738316000402, 6212704801138175306])

    def test_every_index_once(self):
        for n in (0, 1, 2, 3, 1000):
            self.assertEqual(sorted(v.shuffle_order(NAMED, n)), list(range(n)))


class VerifierTest(unittest.TestCase):
    def setUp(self):
        self.fairness, self.entries, self.pos = prequeue(NAMED, 50)

    def test_an_honest_prequeue_holds(self):
        self.assertEqual(v.verify(self.fairness, self.entries), [])
        self.assertEqual(v.verify(self.fairness, self.entries,
                                  commitment=self.fairness["seed_commitment"].upper()), [])
        self.assertEqual(sorted(self.pos.values()), list(range(1, 51)))

    def test_before_the_shuffle_the_commitment_and_list_are_checked(self):
        fairness, entries, _ = prequeue(NAMED, 5, revealed=False)
        fairness["pre_queue_size"] = 6  # joins go on while the list is read
        self.assertEqual(v.verify(fairness, entries), [])
        self.assertTrue(any("not the commitment seen" in p
                            for p in v.verify(fairness, entries, commitment="00" * 32)))

    def test_a_seed_that_does_not_match_its_commitment(self):
        f = copy.deepcopy(self.fairness)
        f["seed"] = COUNTING.hex()
        self.assertTrue(any("not the seed_commitment" in p for p in v.verify(f, self.entries)))

    def test_a_commitment_changed_since_it_was_seen(self):
        # A consistent new seed and commitment: only the one seen before the opening finds it.
        seen = self.fairness["seed_commitment"]
        f, _, _ = prequeue(COUNTING, 50)
        self.assertEqual(v.verify(f, self.entries), [])
        self.assertTrue(any("the seed was changed" in p
                            for p in v.verify(f, self.entries, commitment=seen)))

    def test_an_unknown_shuffle(self):
        f = dict(self.fairness, shuffle="sha256-ctr-fisher-yates-v2")
        self.assertTrue(any("unknown shuffle" in p for p in v.verify(f, self.entries)))

    def test_unsorted_duplicate_or_malformed_entries(self):
        e = list(self.entries)
        e[3], e[4] = e[4], e[3]
        self.assertTrue(any("not sorted" in p for p in v.verify(self.fairness, e)))
        e = sorted(self.entries[:-1] + [self.entries[0]])
        self.assertTrue(any("listed twice" in p for p in v.verify(self.fairness, e)))
        e = list(self.entries)
        e[0] = e[0].upper()
        self.assertTrue(any("16 lowercase hex" in p for p in v.verify(self.fairness, e)))
        e = self.entries[:-1] + [self.entries[-1] + "0"]
        self.assertTrue(any("16 lowercase hex" in p for p in v.verify(self.fairness, e)))

    def test_a_list_that_is_not_the_pre_queue_size(self):
        self.assertTrue(any("pre_queue_size 50" in p
                            for p in v.verify(self.fairness, self.entries[1:])))

    def test_an_altered_list_moves_positions(self):
        # A consistent forgery (size adjusted) still holds in itself, but the positions recomputed
        # from it are not the ones the buyers' tickets show.
        for altered in (self.entries[1:], sorted(self.entries + ["0000000000000000"])):
            f = dict(self.fairness, pre_queue_size=len(altered))
            self.assertEqual(v.verify(f, altered), [])
            moved = v.positions(NAMED, altered)
            self.assertNotEqual({e: moved[e] for e in self.entries if e in moved},
                                {e: self.pos[e] for e in self.entries if e in moved})


class CommandLineTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.fairness, self.entries, self.pos = prequeue(NAMED, 30)

    def save(self, fairness, entries):
        f = os.path.join(self.dir.name, "fairness.json")
        e = os.path.join(self.dir.name, "entries.json")
        with open(f, "w") as out:
            json.dump(fairness, out)
        with open(e, "w") as out:
            json.dump({"entries": entries}, out)
        return ["--fairness", f, "--entries", e]

    def test_the_position_of_an_entry(self):
        entry = self.entries[7]
        code, out = run(*self.save(self.fairness, self.entries), "--entry", entry,
                        "--position", str(self.pos[entry]),
                        "--commitment", self.fairness["seed_commitment"])
        self.assertEqual(code, 0, out)
        self.assertIn(f"entry {entry}: position {self.pos[entry]}", out)
        self.assertIn("the pre-queue holds", out)

    def test_a_wrong_position(self):
        entry = self.entries[7]
        wrong = self.pos[entry] % 30 + 1
        code, out = run(*self.save(self.fairness, self.entries), "--entry", entry,
                        "--position", str(wrong))
        self.assertEqual(code, 1, out)
        self.assertIn(f"gives position {self.pos[entry]}, not {wrong}", out)

    def test_an_entry_removed_is_found_by_the_position_of_another(self):
        # The service drops one entry and publishes a consistent list: a buyer whose recomputed
        # position moved finds out with the position their ticket showed.
        altered = self.entries[:3] + self.entries[4:]
        f = dict(self.fairness, pre_queue_size=len(altered))
        moved = v.positions(NAMED, altered)
        entry = next(e for e in altered if moved[e] != self.pos[e])
        code, out = run(*self.save(f, altered), "--entry", entry, "--position",
                        str(self.pos[entry]))
        self.assertEqual(code, 1, out)
        self.assertIn("gives position", out)

    def test_print_lists_the_order(self):
        code, out = run(*self.save(self.fairness, self.entries), "--print")
        self.assertEqual(code, 0, out)
        lines = [l.split() for l in out.splitlines() if len(l.split()) == 2
                 and len(l.split()[0]) == 16]
        self.assertEqual([int(p) for _, p in lines], list(range(1, 31)))
        self.assertEqual({e: int(p) for e, p in lines}, self.pos)

    def test_a_bad_seed_exits_1(self):
        f = dict(self.fairness, seed=COUNTING.hex())
        code, out = run(*self.save(f, self.entries))
        self.assertEqual(code, 1, out)
        self.assertIn("PROBLEM: SHA-256 of the seed is not the seed_commitment", out)

    def test_usage_and_read_errors_exit_2(self):
        self.assertEqual(run("--fairness", "x.json")[0], 2)  # no --entries
        self.assertEqual(run(*self.save(self.fairness, self.entries), "--position", "3")[0], 2)
        self.assertEqual(run("--fairness", "/nonexistent", "--entries", "/nonexistent")[0], 2)
        self.assertEqual(run("--url", "http://127.0.0.1:9", "--performance", "p")[0], 2)


if __name__ == "__main__":
    unittest.main()
