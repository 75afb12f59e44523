// SHA-256 (FIPS 180-4) in plain TypeScript, synchronous: the proof of work hashes up to a few
// million short messages in a Web Worker, where crypto.subtle's one promise per hash would cost
// more than the hash itself.
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const W = new Uint32Array(64);

function compress(h: Uint32Array, block: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    W[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15], b = W[i - 2];
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
}

const PAD = new Uint8Array(128);

/**
 * Hashes `msg[0, len)` starting from the state `from` after `done` bytes already compressed (a
 * multiple of 64; IV and 0 for a whole message) into `h`. The proof of work hashes one challenge
 * with many nonces: its full leading blocks are compressed once (the midstate).
 */
export function hashInto(h: Uint32Array, from: ArrayLike<number>, done: number, msg: Uint8Array, start: number, len: number): void {
  h.set(from);
  let off = start;
  const end = start + len;
  for (; off + 64 <= end; off += 64) compress(h, msg, off);
  const rem = end - off;
  const size = rem < 56 ? 64 : 128;
  PAD.fill(0, 0, size);
  PAD.set(msg.subarray(off, end));
  PAD[rem] = 0x80;
  const bits = (done + len) * 8;
  const hi = Math.floor(bits / 0x100000000), lo = bits >>> 0;
  PAD[size - 8] = hi >>> 24; PAD[size - 7] = hi >>> 16; PAD[size - 6] = hi >>> 8; PAD[size - 5] = hi;
  PAD[size - 4] = lo >>> 24; PAD[size - 3] = lo >>> 16; PAD[size - 2] = lo >>> 8; PAD[size - 1] = lo;
  compress(h, PAD, 0);
  if (size === 128) compress(h, PAD, 64);
}

/** The state after the whole 64-byte blocks at the start of `prefix`, and how many bytes that is. */
export function midstate(prefix: Uint8Array): { state: Uint32Array; done: number } {
  const state = new Uint32Array(IV);
  const done = prefix.length - (prefix.length % 64);
  for (let off = 0; off < done; off += 64) compress(state, prefix, off);
  return { state, done };
}

export function sha256(msg: Uint8Array): Uint8Array {
  const h = new Uint32Array(8);
  hashInto(h, IV, 0, msg, 0, msg.length);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]);
  return out;
}
