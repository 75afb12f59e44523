// The pre-queue's draw, recomputed in the browser: everyone who joined before the sale opened is
// put in a random order by the shuffle `sha256-ctr-fisher-yates-v1`, a function of two public
// inputs only — the seed (32 bytes, its SHA-256 published before the pre-queue opened, the seed
// itself after the draw) and the list of entry ids (sorted ascending). Anyone can recompute it;
// so does the waiting room, without trusting the server.
//
// Random stream: block k (k = 0, 1, …) is SHA-256(seed || uint64_be(k)); draws take its bytes 8 at
// a time as big-endian unsigned 64-bit integers (four draws per block). A number below `bound` is
// drawn by rejection (x < 2^64 - (2^64 mod bound), then x mod bound: no modulo bias). Fisher-Yates
// from the end: for i = n-1 down to 1, swap a[i] with a[below(i + 1)]; a[i] gets position i + 1.
import { sha256 } from './sha256';

export const SHUFFLE = 'sha256-ctr-fisher-yates-v1';

const TWO64 = 1n << 64n;
const HEX64 = /^[0-9a-f]{64}$/;
const ENTRY_ID = /^[0-9a-f]{16}$/;

/** 64 hex digits -> 32 bytes; null when it is not that. */
export function seedBytes(seedHex: string): Uint8Array | null {
  const s = seedHex.trim().toLowerCase();
  if (!HEX64.test(s)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The shuffle's random numbers: SHA-256 in counter mode over the seed. */
export class DrawStream {
  private readonly msg = new Uint8Array(40);
  private block = 0n;
  private buf: Uint8Array = new Uint8Array(32);
  private view = new DataView(this.buf.buffer);
  private pos = 32;

  constructor(seed: Uint8Array) {
    if (seed.length !== 32) throw new RangeError('the seed is 32 bytes');
    this.msg.set(seed);
  }

  /** The next 8 bytes of the stream as an unsigned 64-bit big-endian integer. */
  next(): bigint {
    if (this.pos === 32) {
      new DataView(this.msg.buffer).setBigUint64(32, this.block);
      this.block += 1n;
      this.buf = sha256(this.msg);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, 32);
      this.pos = 0;
    }
    const x = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return x;
  }

  /** Uniform in [0, bound), by rejection. */
  below(bound: number): number {
    const b = BigInt(bound);
    const limit = TWO64 - (TWO64 % b);
    for (;;) {
      const x = this.next();
      if (x < limit) return Number(x % b);
    }
  }
}

/** The entries in queue order (element i gets position i + 1). `entries` is the published list,
 *  sorted ascending; it is not changed. Throws on a seed that is not 64 hex digits. */
export function drawOrder(seedHex: string, entries: readonly string[]): string[] {
  const seed = seedBytes(seedHex);
  if (!seed) throw new RangeError('the seed is 64 hex digits');
  const a = entries.slice();
  const s = new DrawStream(seed);
  for (let i = a.length - 1; i >= 1; i--) {
    const j = s.below(i + 1);
    const x = a[i]; a[i] = a[j]; a[j] = x;
  }
  return a;
}

/** The position (1-based) the draw gives `entryId`, or null when it is not in the list. */
export function positionOf(seedHex: string, entries: readonly string[], entryId: string): number | null {
  const i = drawOrder(seedHex, entries).indexOf(entryId);
  return i < 0 ? null : i + 1;
}

/** Whether SHA-256 of the seed's 32 bytes is the published commitment (both hex). */
export function commitmentMatches(seedHex: string, commitmentHex: string): boolean {
  const seed = seedBytes(seedHex);
  const c = commitmentHex.trim().toLowerCase();
  return seed !== null && HEX64.test(c) && toHex(sha256(seed)) === c;
}

/** The first hex digits of a commitment, for a short fingerprint to read out and compare. */
export function fingerprint(hex: string, digits = 16): string {
  return hex.slice(0, digits);
}

// ---- checking the server's answers, as the waiting room's "Verify the draw" does ----

export interface Fairness { seed_commitment: string; seed: string | null; pre_queue_size: number; shuffle: string }
export interface FairnessEntries { complete: boolean; entries: string[] }

export type DrawProblem =
  | { kind: 'unknown_shuffle'; shuffle: string }
  | { kind: 'not_drawn' }
  | { kind: 'bad_seed' }
  | { kind: 'commitment_mismatch' }
  | { kind: 'commitment_changed'; seen: string; published: string }
  | { kind: 'bad_list' }
  | { kind: 'size_mismatch'; listed: number; size: number }
  | { kind: 'entry_missing' }
  | { kind: 'position_mismatch'; computed: number; server: number };

export type DrawCheck = { ok: true; position: number } | { ok: false; problem: DrawProblem };

/**
 * Checks the draw for one entry: the shuffle is the one implemented here, the seed hashes to the
 * published commitment (and to the one seen before the opening, when known), the list is final,
 * well-formed, sorted, without duplicates and as long as the pre-queue, and the recomputed position
 * of `entryId` is `serverPosition`. The first problem found, or the verified position.
 */
export function checkDraw(f: Fairness, list: FairnessEntries, entryId: string, serverPosition: number,
                          seenCommitment?: string | null): DrawCheck {
  const fail = (problem: DrawProblem): DrawCheck => ({ ok: false, problem });
  if (f.shuffle !== SHUFFLE) return fail({ kind: 'unknown_shuffle', shuffle: String(f.shuffle) });
  if (f.seed === null || f.seed === undefined || !list.complete) return fail({ kind: 'not_drawn' });
  if (!seedBytes(f.seed)) return fail({ kind: 'bad_seed' });
  const published = String(f.seed_commitment).toLowerCase();
  if (seenCommitment && seenCommitment.toLowerCase() !== published) {
    return fail({ kind: 'commitment_changed', seen: seenCommitment.toLowerCase(), published });
  }
  if (!commitmentMatches(f.seed, published)) return fail({ kind: 'commitment_mismatch' });
  const e = list.entries;
  if (!Array.isArray(e)) return fail({ kind: 'bad_list' });
  for (let i = 0; i < e.length; i++) {
    if (typeof e[i] !== 'string' || !ENTRY_ID.test(e[i]) || (i > 0 && e[i - 1] >= e[i])) return fail({ kind: 'bad_list' });
  }
  if (e.length !== f.pre_queue_size) return fail({ kind: 'size_mismatch', listed: e.length, size: f.pre_queue_size });
  const computed = positionOf(f.seed, e, entryId);
  if (computed === null) return fail({ kind: 'entry_missing' });
  if (computed !== serverPosition) return fail({ kind: 'position_mismatch', computed, server: serverPosition });
  return { ok: true, position: computed };
}

/**
 * Where a performance that has not opened its sale stands with its pre-queue: `none` (it has no
 * pre-queue), `before` (it opens later), `open` (joins now are drawn at the opening) or `over`
 * (the sale has opened: joins line up behind the drawn ones).
 */
export function preQueuePhase(queueOpensAt: string | null | undefined, saleOpensAt: string, now: number = Date.now()):
  'none' | 'before' | 'open' | 'over' {
  const q = queueOpensAt ? Date.parse(queueOpensAt) : NaN;
  if (Number.isNaN(q)) return 'none';
  if (now < q) return 'before';
  const s = Date.parse(saleOpensAt);
  return Number.isNaN(s) || now < s ? 'open' : 'over';
}
