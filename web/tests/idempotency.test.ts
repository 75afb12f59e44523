import { describe, expect, it, vi } from 'vitest';
import { NetworkError, forgetKey, keyFor, retriable, sendWithRetry, type KeyStore } from '../src/logic/idempotency';

class MemStore implements KeyStore {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}
let n = 0;
const rand = () => `key-${++n}`;
const noSleep = { sleep: async () => {} };

describe('idempotency keys', () => {
  it('reuses the key for the same order and body, a new one for another body or order', () => {
    const st = new MemStore();
    const k1 = keyFor(st, 'ord_1', '{"card_token":"tok_ok"}', rand);
    expect(keyFor(st, 'ord_1', '{"card_token":"tok_ok"}', rand)).toBe(k1);
    const k2 = keyFor(st, 'ord_1', '{"card_token":"tok_other"}', rand);
    expect(k2).not.toBe(k1);
    expect(keyFor(st, 'ord_2', '{"card_token":"tok_other"}', rand)).not.toBe(k2);
  });
  it('forgets the key after a definitive answer', () => {
    const st = new MemStore();
    const k1 = keyFor(st, 'ord_1', 'b', rand);
    forgetKey(st, 'ord_1');
    expect(keyFor(st, 'ord_1', 'b', rand)).not.toBe(k1);
  });
  it('survives a corrupt stored entry', () => {
    const st = new MemStore();
    st.setItem('tk.pay.ord_1', '{not json');
    expect(keyFor(st, 'ord_1', 'b', rand)).toMatch(/^key-/);
  });
  it('produces random keys of 1..64 characters by default', () => {
    const st = new MemStore();
    const a = keyFor(st, 'o1', 'b');
    const b = keyFor(st, 'o2', 'b');
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThan(0);
    expect(a.length).toBeLessThanOrEqual(64);
  });
});

describe('payment retry', () => {
  it('retries a network error with the same key, then succeeds', async () => {
    const keys: string[] = [];
    const send = vi.fn(async (k: string) => {
      keys.push(k);
      if (keys.length < 3) throw new NetworkError();
      return 'paid';
    });
    const onRetry = vi.fn();
    await expect(sendWithRetry('K', send, { ...noSleep, onRetry })).resolves.toBe('paid');
    expect(keys).toEqual(['K', 'K', 'K']);
    expect(onRetry).toHaveBeenCalledTimes(2);
  });
  it('retries 503 and idempotency_in_progress, never a decline or a conflict', async () => {
    expect(retriable(new NetworkError())).toBe(true);
    expect(retriable({ status: 503, code: 'unavailable' })).toBe(true);
    expect(retriable({ status: 409, code: 'idempotency_in_progress' })).toBe(true);
    expect(retriable({ status: 402, code: 'payment_declined' })).toBe(false);
    expect(retriable({ status: 409, code: 'hold_expired' })).toBe(false);
    expect(retriable(new Error('bug'))).toBe(false);
    const declined = { status: 402, code: 'payment_declined' };
    const send = vi.fn(async () => { throw declined; });
    await expect(sendWithRetry('K', send, noSleep)).rejects.toBe(declined);
    expect(send).toHaveBeenCalledTimes(1);
  });
  it('gives up after the last attempt with the last error', async () => {
    const send = vi.fn(async () => { throw new NetworkError('down'); });
    const delays: number[] = [];
    await expect(sendWithRetry('K', send, { attempts: 3, sleep: async (ms) => { delays.push(ms); } })).rejects.toThrow('down');
    expect(send).toHaveBeenCalledTimes(3);
    expect(delays).toEqual([500, 1000]);
  });
});
