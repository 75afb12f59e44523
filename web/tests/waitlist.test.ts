import { describe, expect, it } from 'vitest';
import { WAITLIST_POLL_MS, countChoices, nextPollMs, noSeatFree, paidHoldIds, waitlistScreen,
  type WaitlistEntry } from '../src/logic/waitlist';

const NOW = Date.parse('2027-05-01T10:00:00Z');
const offer: WaitlistEntry = { position: 3, count: 2, state: 'offered', access_token: 'A', hold_id: 'hld_1',
  access_expires_at: '2027-05-01T10:05:00Z' };
const none = new Set<string>();

describe('the waiting list screen', () => {
  it('asks to sign up when not on the list', () => {
    expect(waitlistScreen(null, none)).toEqual({ kind: 'signup' });
  });

  it('shows the place and the seats asked for while waiting', () => {
    expect(waitlistScreen({ position: 7, count: 1, state: 'waiting' }, none, null, NOW))
      .toEqual({ kind: 'waiting', position: 7, count: 1 });
  });

  it('shows an offer with its hold and deadline', () => {
    expect(waitlistScreen(offer, none, null, NOW)).toEqual({ kind: 'offered', position: 3, count: 2, holdId: 'hld_1',
      accessToken: 'A', deadline: '2027-05-01T10:05:00Z' });
  });

  it('reads an offer missing its hold or deadline as still waiting', () => {
    expect(waitlistScreen({ ...offer, hold_id: undefined }, none, null, NOW).kind).toBe('waiting');
    expect(waitlistScreen({ ...offer, access_expires_at: undefined }, none, null, NOW).kind).toBe('waiting');
    expect(waitlistScreen({ ...offer, access_token: undefined }, none, null, NOW).kind).toBe('waiting');
  });

  it('reads an offer past its deadline as expired, by the server clock', () => {
    const at = Date.parse(offer.access_expires_at!);
    expect(waitlistScreen(offer, none, null, at).kind).toBe('expired');
    expect(waitlistScreen(offer, none, null, at - 1000).kind).toBe('offered');
    // The server is 2 s ahead of this computer: its deadline is 2 s sooner here.
    expect(waitlistScreen(offer, none, null, at - 1000, 2000).kind).toBe('expired');
    expect(waitlistScreen({ position: 3, count: 2, state: 'expired' }, none, null, NOW))
      .toEqual({ kind: 'expired', position: 3, count: 2 });
  });

  it('shows an entry the server reads as bought as paid, with or without the hold named', () => {
    const bought: WaitlistEntry = { position: 3, count: 2, state: 'bought' };
    expect(waitlistScreen(bought, new Set(), null, NOW)).toEqual({ kind: 'paid', position: 3, count: 2, holdId: '' });
    expect(waitlistScreen(bought, new Set(), { position: 3, holdId: 'hld_1' }, NOW))
      .toEqual({ kind: 'paid', position: 3, count: 2, holdId: 'hld_1' });
  });

  it('shows an offer whose order was paid as bought, also after its window', () => {
    const paid = new Set(['hld_1']);
    expect(waitlistScreen(offer, paid, null, NOW)).toEqual({ kind: 'paid', position: 3, count: 2, holdId: 'hld_1' });
    const expired: WaitlistEntry = { position: 3, count: 2, state: 'expired' };
    expect(waitlistScreen(expired, paid, { position: 3, holdId: 'hld_1' }, NOW).kind).toBe('paid');
    // The hold remembered was another entry's (an earlier sign-up): this one's offer ran out.
    expect(waitlistScreen(expired, paid, { position: 1, holdId: 'hld_1' }, NOW).kind).toBe('expired');
    expect(waitlistScreen(expired, none, { position: 3, holdId: 'hld_1' }, NOW).kind).toBe('expired');
  });
});

describe('the seats one may ask for', () => {
  it('goes from 1 to the seats per order, within the account limit', () => {
    expect(countChoices(4)).toEqual([1, 2, 3, 4]);
    expect(countChoices(4, 2)).toEqual([1, 2]);
    expect(countChoices(0)).toEqual([1]);
  });
});

describe('sold out for the waiting list', () => {
  it('is when no seat is free to hold (held seats count as taken)', () => {
    expect(noSeatFree(['sold', 'held'])).toBe(true);
    expect(noSeatFree(['sold', 'available', 'held'])).toBe(false);
    expect(noSeatFree([])).toBe(false);   // not loaded yet: nothing to say
  });
});

describe('holds paid for', () => {
  it('are those of paid (or since refunded) orders of this performance', () => {
    const orders = [
      { performance_id: 'p1', hold_id: 'h1', status: 'paid' },
      { performance_id: 'p1', hold_id: 'h2', status: 'pending' },
      { performance_id: 'p1', hold_id: 'h3', status: 'refunded' },
      { performance_id: 'p2', hold_id: 'h4', status: 'paid' },
      { performance_id: 'p1', hold_id: 'h5', status: 'expired' },
    ];
    expect([...paidHoldIds(orders, 'p1')].sort()).toEqual(['h1', 'h3']);
  });
});

describe('when the page asks again', () => {
  it('polls every 10 s while waiting, and not once the list is done with', () => {
    expect(WAITLIST_POLL_MS).toBe(10_000);
    expect(nextPollMs({ kind: 'waiting', position: 1, count: 1 })).toBe(10_000);
    expect(nextPollMs({ kind: 'signup' })).toBeNull();
    expect(nextPollMs({ kind: 'expired', position: 1, count: 1 })).toBeNull();
    expect(nextPollMs({ kind: 'paid', position: 1, count: 1, holdId: 'h' })).toBeNull();
  });
  it('asks just after an offer\'s deadline when that comes sooner', () => {
    const screen = waitlistScreen(offer, none, null, NOW);
    expect(nextPollMs(screen, NOW)).toBe(10_000);
    expect(nextPollMs(screen, Date.parse('2027-05-01T10:04:57Z'))).toBe(4000);
  });
});
