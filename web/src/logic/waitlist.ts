// The waiting list after sell-out: what the buyer's page shows for the entry the server returned,
// how many seats one may ask for, and when to ask again. Seats that come back are offered in list
// order as a hold until a deadline; the buyer pays it like any hold.
import { remainingMs } from './countdown';

export type WaitlistState = 'waiting' | 'offered' | 'expired' | 'bought';

/** `GET /v1/performances/{pid}/waitlist/me` (and the sign-up's answer, without the offer). */
export interface WaitlistEntry {
  position: number;
  count: number;
  state: WaitlistState;
  access_token?: string;
  access_expires_at?: string;
  hold_id?: string;
}

/** What the page shows. `signup`: not on the list (never, left, or the server does not know the
 *  account's entry); `paid`: the offered seats were bought (the server says `bought`; the paid
 *  holds of the buyer's orders tell it as well, the moment the payment returns). */
export type WaitlistScreen =
  | { kind: 'signup' }
  | { kind: 'waiting'; position: number; count: number }
  | { kind: 'offered'; position: number; count: number; holdId: string; accessToken: string; deadline: string }
  | { kind: 'paid'; position: number; count: number; holdId: string }
  | { kind: 'expired'; position: number; count: number };

/**
 * The screen for an entry. `paidHolds`: holds of this performance whose orders were paid;
 * `knownHold`: the hold this browser saw offered to the entry at `position` (an expired entry no
 * longer names it). An offer missing its hold or deadline cannot be paid: it reads as waiting
 * until a complete one arrives. An offer whose deadline passed (by the server's clock, `skewMs`)
 * reads as expired before the server says so: its seats are no longer the buyer's.
 */
export function waitlistScreen(entry: WaitlistEntry | null, paidHolds: ReadonlySet<string>,
                               knownHold: KnownHold | null = null, now: number = Date.now(), skewMs = 0): WaitlistScreen {
  if (!entry) return { kind: 'signup' };
  const { position, count } = entry;
  const holdId = entry.hold_id ?? (knownHold?.position === position ? knownHold.holdId : '');
  if (entry.state === 'bought') return { kind: 'paid', position, count, holdId };
  if ((entry.state === 'offered' || entry.state === 'expired') && holdId && paidHolds.has(holdId)) {
    return { kind: 'paid', position, count, holdId };
  }
  if (entry.state === 'offered') {
    if (!holdId || !entry.access_token || !entry.access_expires_at) return { kind: 'waiting', position, count };
    if (remainingMs(entry.access_expires_at, now, skewMs) <= 0) return { kind: 'expired', position, count };
    return { kind: 'offered', position, count, holdId, accessToken: entry.access_token, deadline: entry.access_expires_at };
  }
  if (entry.state === 'expired') return { kind: 'expired', position, count };
  return { kind: 'waiting', position, count };
}

/** The hold last offered to this browser's buyer, by the entry's position (unique per
 *  performance): after the offer's window the server no longer names it. */
export interface KnownHold { position: number; holdId: string }

/** The seat counts one may ask for: 1..the seats per order, never more than one account may buy
 *  (at least 1, so the picker is never empty). */
export function countChoices(maxPerOrder: number, maxPerAccount?: number): number[] {
  const cap = Math.max(1, Math.floor(Math.min(maxPerOrder || 1, maxPerAccount ?? Infinity)));
  return Array.from({ length: cap }, (_, i) => i + 1);
}

/** Whether a sale has nothing left to hold: every seat sold or held. */
export function noSeatFree(states: Iterable<string>): boolean {
  let any = false;
  for (const s of states) {
    any = true;
    if (s === 'available') return false;
  }
  return any;
}

/** The holds of this performance whose orders were paid (a refund later still counts: the
 *  offer was taken). */
export function paidHoldIds(orders: readonly { performance_id: string; hold_id: string; status: string }[],
                            pid: string): Set<string> {
  return new Set(orders.filter((o) => o.performance_id === pid
    && (o.status === 'paid' || o.status === 'refund_pending' || o.status === 'refunded')).map((o) => o.hold_id));
}

/** How often a waiting page asks: offers are made once a second, so this is what a buyer may wait
 *  beyond that to see one; modest, for a list that may be long. */
export const WAITLIST_POLL_MS = 10_000;

/** When to ask again: every WAITLIST_POLL_MS while waiting or offered, and an offer's page also
 *  just after its deadline, so an offer that ran out shows as such at once; nothing to ask while
 *  signing up, after an offer ran out or once it was paid. */
export function nextPollMs(screen: WaitlistScreen, now: number = Date.now(), skewMs = 0): number | null {
  if (screen.kind === 'waiting') return WAITLIST_POLL_MS;
  if (screen.kind === 'offered') return Math.min(WAITLIST_POLL_MS, remainingMs(screen.deadline, now, skewMs) + 1000);
  return null;
}
