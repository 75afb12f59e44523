// The waiting room's proof of work: find a nonce such that SHA-256 of the UTF-8 bytes of the
// challenge followed by those of the nonce starts with `difficulty` zero bits (the server checks
// it with one hash). Nonces are decimal counters, 1..64 characters as the contract allows.
import { hashInto, midstate, sha256 } from './sha256';

export function leadingZeroBits(hash: Uint8Array): number {
  let n = 0;
  for (const byte of hash) {
    if (byte === 0) { n += 8; continue; }
    return n + Math.clz32(byte) - 24;
  }
  return n;
}

const encoder = new TextEncoder();

/** Whether `nonce` solves `challenge` at `difficulty`. */
export function solves(challenge: string, nonce: string, difficulty: number): boolean {
  return leadingZeroBits(sha256(encoder.encode(challenge + nonce))) >= difficulty;
}

/** Leading zero bits of a digest held as eight big-endian words. */
export function leadingZeroBitsOfWords(h: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < 8; i++) {
    if (h[i] === 0) { n += 32; continue; }
    return n + Math.clz32(h[i]);
  }
  return n;
}

/**
 * Tries nonces from `from` for at most `budget` hashes; the nonce found, or null with the next
 * counter to try. The worker calls it in slices so it can report progress between them.
 */
export function search(challenge: string, difficulty: number, from: number, budget: number):
  { nonce: string | null; next: number } {
  const prefix = encoder.encode(challenge);
  const { state, done } = midstate(prefix);
  // The prefix's last partial block, then the nonce's digits.
  const tailStart = prefix.length - done;
  const buf = new Uint8Array(tailStart + 24);
  buf.set(prefix.subarray(done));
  const h = new Uint32Array(8);
  for (let i = from; i < from + budget; i++) {
    const digits = String(i);
    for (let d = 0; d < digits.length; d++) buf[tailStart + d] = digits.charCodeAt(d);
    hashInto(h, state, done, buf, 0, tailStart + digits.length);
    if (leadingZeroBitsOfWords(h) >= difficulty) return { nonce: digits, next: i + 1 };
  }
  return { nonce: null, next: from + budget };
}

/** Hashes expected before a solution: 2^difficulty. */
export function expectedHashes(difficulty: number): number {
  return 2 ** difficulty;
}
