import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../src/logic/sha256';
import { leadingZeroBits, search, solves } from '../src/logic/pow';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = (s: string) => new TextEncoder().encode(s);

describe('sha256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(hex(sha256(enc('')))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256(enc('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))))
      .toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });
  it('matches node:crypto on every length around the block boundaries', () => {
    for (let n = 0; n < 200; n++) {
      const msg = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(hex(sha256(msg))).toBe(createHash('sha256').update(msg).digest('hex'));
    }
  });
});

describe('proof of work', () => {
  it('counts leading zero bits', () => {
    expect(leadingZeroBits(new Uint8Array([0x80]))).toBe(0);
    expect(leadingZeroBits(new Uint8Array([0x01]))).toBe(7);
    expect(leadingZeroBits(new Uint8Array([0x00, 0x00, 0x3f]))).toBe(18);
    expect(leadingZeroBits(new Uint8Array([0, 0]))).toBe(16);
  });
  it('finds a nonce the server-side rule accepts, and only such nonces', () => {
    const challenge = 'k1.AQIDBAUGBwgJCgsMDQ4PEA';
    const r = search(challenge, 12, 1, 1_000_000);
    expect(r.nonce).not.toBeNull();
    const nonce = r.nonce as string;
    expect(nonce.length).toBeGreaterThanOrEqual(1);
    expect(nonce.length).toBeLessThanOrEqual(64);
    expect(solves(challenge, nonce, 12)).toBe(true);
    const digest = createHash('sha256').update(challenge + nonce, 'utf8').digest();
    expect(leadingZeroBits(new Uint8Array(digest))).toBeGreaterThanOrEqual(12);
    // Every counter before it fails.
    for (let i = 1; i < Number(nonce); i++) expect(solves(challenge, String(i), 12)).toBe(false);
  });
  it('hashes from the midstate of a challenge longer than a block as the server does', () => {
    for (const len of [63, 64, 65, 120, 128, 169, 200]) {
      const challenge = 'k1.' + 'xY'.repeat(len).slice(0, len - 3);
      const r = search(challenge, 8, 1, 100_000);
      expect(r.nonce).not.toBeNull();
      const digest = createHash('sha256').update(challenge + (r.nonce as string), 'utf8').digest();
      expect(leadingZeroBits(new Uint8Array(digest))).toBeGreaterThanOrEqual(8);
      for (let i = 1; i < Number(r.nonce); i++) {
        const d = createHash('sha256').update(challenge + String(i), 'utf8').digest();
        expect(leadingZeroBits(new Uint8Array(d))).toBeLessThan(8);
      }
    }
  });
  it('resumes where a slice stopped', () => {
    const a = search('x', 40, 1, 100);
    expect(a).toEqual({ nonce: null, next: 101 });
  });
});
