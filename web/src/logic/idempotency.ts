// Payment retries that never charge twice: one Idempotency-Key per (order, request body), kept
// until the server gives a definitive answer, so a retry after a network error (the request may
// or may not have reached the server) replays the first attempt instead of charging again.

export class NetworkError extends Error {
  constructor(message = 'network error') { super(message); this.name = 'NetworkError'; }
}

/** Whether a failed attempt may be sent again with the same key. */
export function retriable(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  const e = err as { status?: number; code?: string };
  // Still running on the server, or a dependency briefly down (nothing was changed): same key.
  return e?.status === 503 || (e?.status === 409 && e.code === 'idempotency_in_progress');
}

export function newIdempotencyKey(rand: () => string = defaultRandom): string {
  return rand();
}

function defaultRandom(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export interface KeyStore {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

/** The key for paying `orderId` with `body`: the stored one when the body is the same. */
export function keyFor(store: KeyStore, orderId: string, body: string,
                       rand: () => string = defaultRandom): string {
  const slot = `tk.pay.${orderId}`;
  try {
    const saved = JSON.parse(store.getItem(slot) ?? 'null') as { key: string; body: string } | null;
    if (saved && saved.body === body && saved.key) return saved.key;
  } catch { /* corrupt entry: replaced below */ }
  const key = newIdempotencyKey(rand);
  store.setItem(slot, JSON.stringify({ key, body }));
  return key;
}

/** Forget the key after a definitive answer that a new attempt should not replay (a decline). */
export function forgetKey(store: KeyStore, orderId: string): void {
  store.removeItem(`tk.pay.${orderId}`);
}

export interface RetryOptions {
  attempts?: number;                       // total attempts, first included
  delayMs?: (attempt: number) => number;   // before attempt n (n >= 2)
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, err: unknown) => void;
}

/** Calls send(key) until it succeeds or fails for good; every attempt uses the same key. */
export async function sendWithRetry<T>(key: string, send: (key: string) => Promise<T>,
                                       opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 4;
  const delay = opts.delayMs ?? ((n: number) => 500 * 2 ** (n - 2));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 1; ; ++n) {
    try {
      return await send(key);
    } catch (err) {
      if (n >= attempts || !retriable(err)) throw err;
      opts.onRetry?.(n + 1, err);
      await sleep(delay(n + 1));
    }
  }
}
