// The waiting-room ticket and the access token live in localStorage, per performance, so a reload
// or a second tab polls with the same ticket and keeps the place.
import type { KeyStore } from './idempotency';

export interface StoredTicket {
  ticket: string;
  position: number | null;   // null in the pre-queue, before the draw
  firstAhead?: number;   // largest `ahead` seen, for the progress bar
  account?: string;      // whose ticket (a log-out/log-in as someone else must not reuse it)
  entryId?: string;      // the entry in the pre-queue's draw
  commitment?: string;   // the draw's seed commitment as first seen in the pre-queue, to check
                         // after the draw that it was not replaced since
}
export interface StoredAccess { token: string; expiresAt: string }

const tkey = (pid: string) => `tk.queue.${pid}`;
const akey = (pid: string) => `tk.access.${pid}`;
const lkey = (pid: string) => `tk.left.${pid}`;

function read<T>(store: KeyStore, k: string): T | null {
  try { return JSON.parse(store.getItem(k) ?? 'null') as T | null; } catch { return null; }
}

export function loadTicket(store: KeyStore, pid: string, account?: string): StoredTicket | null {
  const t = read<StoredTicket>(store, tkey(pid));
  if (!t || typeof t.ticket !== 'string' || !t.ticket) return null;
  if (account && t.account && t.account !== account) return null;
  return t;
}

export function saveTicket(store: KeyStore, pid: string, t: StoredTicket): void {
  store.setItem(tkey(pid), JSON.stringify(t));
}

/** Records `ahead` and returns the updated ticket (firstAhead only grows). */
export function noteAhead(store: KeyStore, pid: string, t: StoredTicket, ahead: number): StoredTicket {
  const firstAhead = Math.max(t.firstAhead ?? 0, ahead);
  if (firstAhead === t.firstAhead) return t;
  const next = { ...t, firstAhead };
  saveTicket(store, pid, next);
  return next;
}

export function loadAccess(store: KeyStore, pid: string, now: number = Date.now()): StoredAccess | null {
  const a = read<StoredAccess>(store, akey(pid));
  if (!a || !a.token || !(Date.parse(a.expiresAt) > now)) return null;
  return a;
}

export function saveAccess(store: KeyStore, pid: string, a: StoredAccess): void {
  store.setItem(akey(pid), JSON.stringify(a));
}

export function clearQueue(store: KeyStore, pid: string): void {
  store.removeItem(tkey(pid));
  store.removeItem(akey(pid));
}

/** Forgets `ticket` and its access token once its place is gone; a newer ticket stored meanwhile
 *  (another tab joined again) stays. */
export function forgetTicket(store: KeyStore, pid: string, ticket: string): void {
  const stored = loadTicket(store, pid);
  if (!stored || stored.ticket === ticket) clearQueue(store, pid);
}

/** Updates fields of the stored ticket and returns it (as saved). */
export function updateTicket(store: KeyStore, pid: string, t: StoredTicket, change: Partial<StoredTicket>): StoredTicket {
  const next = { ...t, ...change };
  saveTicket(store, pid, next);
  return next;
}

/** Remembers that this browser gave up `ticket`: another tab still polling it can say why. */
export function markLeft(store: KeyStore, pid: string, ticket: string): void {
  store.setItem(lkey(pid), JSON.stringify({ ticket }));
}

/** Whether this browser gave up `ticket` (the last place it left for this performance). */
export function leftHere(store: KeyStore, pid: string, ticket: string): boolean {
  return read<{ ticket?: unknown }>(store, lkey(pid))?.ticket === ticket;
}
