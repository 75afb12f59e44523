import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkDraw, commitmentMatches, DrawStream, drawOrder, fingerprint, positionOf, preQueuePhase, seedBytes, SHUFFLE,
  type Fairness, type FairnessEntries } from '../src/logic/prequeue';

// Known answers computed independently with Python's hashlib, from the written specification of
// sha256-ctr-fisher-yates-v1 (block k = SHA-256(seed || uint64_be(k)), 8-byte big-endian draws,
// rejection below 2^64 - (2^64 mod bound), Fisher-Yates from the end):
//
//   def stream(seed):
//       k = 0
//       while True:
//           b = hashlib.sha256(seed + k.to_bytes(8, 'big')).digest(); k += 1
//           for o in range(0, 32, 8): yield int.from_bytes(b[o:o+8], 'big')
//   def draw(seed, L):
//       a = list(L); s = stream(seed); T = 1 << 64
//       for i in range(len(a) - 1, 0, -1):
//           bound = i + 1; lim = T - (T % bound)
//           while (x := next(s)) >= lim: pass
//           j = x % bound; a[i], a[j] = a[j], a[i]
//       return a
const SEED = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';   // bytes(range(32))
const COMMITMENT = '630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd';  // sha256(bytes(range(32)))
const TEN = Array.from({ length: 10 }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
const TEN_DRAWN = ['0000000000000008', '0000000000000003', '0000000000000001', '0000000000000007', '0000000000000004',
  '0000000000000009', '0000000000000006', '000000000000000a', '0000000000000005', '0000000000000002'];
// seed2 = sha256(b'prequeue'); L2 = ['%016x' % (i * 7919) for i in range(1, 101)]
const SEED2 = 'c87d17a64fd888992f94ba0fb2383f72ba3c25c248bef932681860b04f5e4417';
const HUNDRED = Array.from({ length: 100 }, (_, i) => ((i + 1) * 7919).toString(16).padStart(16, '0'));
const HUNDRED_HEAD = ['000000000002899b', '0000000000001eef', '00000000000b5bc2', '000000000003bef1', '0000000000034335'];
const HUNDRED_ORDER_SHA = '600608ee89804d7343483e1db18c3d5c4a1cdf29fc849bc588f53b893428ad82';  // sha256(','.join(order))
// L3 = ['%016x' % (i * 1000003) for i in range(5000)], seed2: bigger bounds, many blocks
const FIVE_K = Array.from({ length: 5000 }, (_, i) => (i * 1000003).toString(16).padStart(16, '0'));
const FIVE_K_ORDER_SHA = '3b9a2c6e36fdd27a14e47a1148130ce763ccee7a376c7b937a5303b0a0200dfa';

const ids = (n: number) => Array.from({ length: n }, (_, i) => (i * 97 + 5).toString(16).padStart(16, '0'));

describe('the pre-queue draw (sha256-ctr-fisher-yates-v1)', () => {
  it('draws the stream as SHA-256 in counter mode, 8 bytes big-endian at a time', () => {
    const s = new DrawStream(seedBytes(SEED)!);
    expect([s.next(), s.next(), s.next(), s.next(), s.next()].map((x) => x.toString(16)))
      .toEqual(['a9d6e500293a88bd', '38cbe213d07ab71f', '8cb2258552072a01', 'bdf1c40be527f4d0', '6061c4386d7a1788']);
  });

  it('gives the known order for a fixed seed and entry list', () => {
    expect(drawOrder(SEED, TEN)).toEqual(TEN_DRAWN);
    const order = drawOrder(SEED2, HUNDRED);
    expect(order.slice(0, 5)).toEqual(HUNDRED_HEAD);
    expect(createHash('sha256').update(order.join(',')).digest('hex')).toBe(HUNDRED_ORDER_SHA);
    expect(positionOf(SEED2, HUNDRED, HUNDRED[0])).toBe(2);
    expect(positionOf(SEED2, HUNDRED, HUNDRED[99])).toBe(88);
    const big = drawOrder(SEED2, FIVE_K);
    expect([big[0], big[2499], big[4999]]).toEqual(['000000007e3e3652', '00000000c6e6bb5b', '0000000099f59205']);
    expect(createHash('sha256').update(big.join(',')).digest('hex')).toBe(FIVE_K_ORDER_SHA);
  });

  it('finds positions and does not change the list it is given', () => {
    const list = TEN.slice();
    TEN_DRAWN.forEach((e, i) => expect(positionOf(SEED, list, e)).toBe(i + 1));
    expect(positionOf(SEED, list, 'ffffffffffffffff')).toBeNull();
    expect(list).toEqual(TEN);
    expect(drawOrder(SEED.toUpperCase(), TEN)).toEqual(TEN_DRAWN);
  });

  it('is a permutation of the list for every size, the empty list and one entry included', () => {
    expect(drawOrder(SEED, [])).toEqual([]);
    expect(drawOrder(SEED, ['0000000000000001'])).toEqual(['0000000000000001']);
    for (const n of [2, 3, 7, 64, 257, 1000]) {
      const list = ids(n);
      const order = drawOrder(SEED, list);
      expect(order).toHaveLength(n);
      expect(new Set(order).size).toBe(n);
      expect(order.slice().sort()).toEqual(list);
    }
  });

  it('spreads the orders of three entries evenly over many seeds', () => {
    const counts = new Map<string, number>();
    for (let k = 0; k < 6000; k++) {
      const seed = createHash('sha256').update(`seed ${k}`).digest('hex');
      const o = drawOrder(seed, ['a', 'b', 'c']).join('');
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(c).toBeGreaterThan(850);   // 1000 expected each
  });

  it('rejects a draw at or above 2^64 - (2^64 mod bound), so no index is favoured', () => {
    const s = new DrawStream(new Uint8Array(32));
    const feed = [(1n << 64n) - 1n, 5n];   // 2^64 mod 3 = 1: the largest value is rejected
    s.next = () => feed.shift()!;
    expect(s.below(3)).toBe(2);
  });

  it('refuses a seed that is not 32 bytes of hex', () => {
    expect(() => drawOrder('abc', TEN)).toThrow();
    expect(() => drawOrder(SEED.slice(2), TEN)).toThrow();
    expect(seedBytes(`${SEED.slice(0, 62)}zz`)).toBeNull();
  });
});

describe('the seed commitment', () => {
  it('matches SHA-256 of the seed bytes, in either case', () => {
    expect(commitmentMatches(SEED, COMMITMENT)).toBe(true);
    expect(commitmentMatches(SEED, COMMITMENT.toUpperCase())).toBe(true);
    expect(fingerprint(COMMITMENT)).toBe('630dcd2966c43366');
  });
  it('fails for a wrong seed, a malformed seed or commitment', () => {
    const wrong = `${SEED.slice(0, 63)}e`;
    expect(commitmentMatches(wrong, COMMITMENT)).toBe(false);
    expect(commitmentMatches(SEED2, COMMITMENT)).toBe(false);
    expect(commitmentMatches('', COMMITMENT)).toBe(false);
    expect(commitmentMatches(SEED, COMMITMENT.slice(1))).toBe(false);
    // The hash of the seed's hex text is not the commitment: it is of the 32 bytes.
    expect(commitmentMatches(SEED, createHash('sha256').update(SEED).digest('hex'))).toBe(false);
  });
});

describe('verifying a draw as the waiting room does', () => {
  const fair = (o: Partial<Fairness> = {}): Fairness =>
    ({ seed_commitment: COMMITMENT, seed: SEED, pre_queue_size: 10, shuffle: SHUFFLE, ...o });
  const list = (entries = TEN, complete = true): FairnessEntries => ({ complete, entries });
  const me = TEN_DRAWN[3];   // position 4

  it('confirms the position the server gave', () => {
    expect(checkDraw(fair(), list(), me, 4)).toEqual({ ok: true, position: 4 });
    expect(checkDraw(fair(), list(), me, 4, COMMITMENT)).toEqual({ ok: true, position: 4 });
  });
  it('catches a position the seed does not give', () => {
    expect(checkDraw(fair(), list(), me, 1)).toEqual({ ok: false, problem: { kind: 'position_mismatch', computed: 4, server: 1 } });
  });
  it('catches a wrong seed: it does not hash to the commitment', () => {
    const r = checkDraw(fair({ seed: SEED2 }), list(), me, 4);
    expect(r).toEqual({ ok: false, problem: { kind: 'commitment_mismatch' } });
  });
  it('catches a commitment changed since the buyer saw it', () => {
    const other = createHash('sha256').update(Buffer.from(SEED2, 'hex')).digest('hex');
    const r = checkDraw(fair({ seed: SEED2, seed_commitment: other }), list(), me, 4, COMMITMENT);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem.kind).toBe('commitment_changed');
    // Without the commitment seen before the opening, a swapped seed and commitment are
    // self-consistent: remembering it is what catches the swap.
    const swapped = positionOf(SEED2, TEN, me)!;
    expect(checkDraw(fair({ seed: SEED2, seed_commitment: other }), list(), me, swapped)).toEqual({ ok: true, position: swapped });
  });
  it('refuses a list that is unsorted, duplicated, malformed, short or not final', () => {
    const kind = (f: Fairness, l: FairnessEntries) => { const r = checkDraw(f, l, me, 4); return r.ok ? 'ok' : r.problem.kind; };
    expect(kind(fair(), list([...TEN.slice(1), TEN[0]]))).toBe('bad_list');
    expect(kind(fair(), list([TEN[0], ...TEN.slice(0, 9)]))).toBe('bad_list');
    expect(kind(fair(), list(TEN.map((e) => e.toUpperCase())))).toBe('bad_list');
    expect(kind(fair(), list(TEN.slice(0, 9)))).toBe('size_mismatch');
    expect(kind(fair(), list([], false))).toBe('not_drawn');
    expect(kind(fair({ seed: null }), list())).toBe('not_drawn');
    expect(kind(fair({ shuffle: 'something-else' }), list())).toBe('unknown_shuffle');
    expect(kind(fair(), list(TEN.filter((e) => e !== me).concat('00000000000000ff')))).toBe('entry_missing');
  });
});

describe('the pre-queue on the events page', () => {
  const q = '2027-05-01T01:00:00Z', sale = '2027-05-01T02:00:00Z';
  it('says whether the pre-queue is yet to open, open, or over', () => {
    expect(preQueuePhase(undefined, sale, Date.parse('2027-05-01T01:30:00Z'))).toBe('none');
    expect(preQueuePhase(q, sale, Date.parse('2027-05-01T00:59:59Z'))).toBe('before');
    expect(preQueuePhase(q, sale, Date.parse(q))).toBe('open');
    expect(preQueuePhase(q, sale, Date.parse('2027-05-01T01:59:59Z'))).toBe('open');
    expect(preQueuePhase(q, sale, Date.parse(sale))).toBe('over');
    expect(preQueuePhase('not a time', sale, 0)).toBe('none');
  });
});
