import { describe, expect, it } from 'vitest';
import { parseVenueCsv, splitCsvLine, venueGrades } from '../src/logic/csv';
import { clearQueue, forgetTicket, leftHere, loadAccess, loadTicket, markLeft, noteAhead, saveAccess, saveTicket,
  type StoredTicket } from '../src/logic/queue-store';
import { Series } from '../src/logic/series';
import type { Stats } from '../src/api';

class MemStore {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

describe('waiting-room ticket store', () => {
  it('keeps the ticket per performance and per account', () => {
    const st = new MemStore();
    saveTicket(st, 'p1', { ticket: 'T1', position: 7, account: 'kim@example.com' });
    expect(loadTicket(st, 'p1', 'kim@example.com')?.ticket).toBe('T1');
    expect(loadTicket(st, 'p1', 'lee@example.com')).toBeNull();
    expect(loadTicket(st, 'p2')).toBeNull();
    st.setItem('tk.queue.p3', 'garbage');
    expect(loadTicket(st, 'p3')).toBeNull();
  });
  it('remembers the largest number ahead for the progress bar', () => {
    const st = new MemStore();
    let t: StoredTicket = { ticket: 'T', position: 50 };
    t = noteAhead(st, 'p', t, 40);
    t = noteAhead(st, 'p', t, 30);
    expect(t.firstAhead).toBe(40);
    expect(loadTicket(st, 'p')?.firstAhead).toBe(40);
  });
  it('drops an expired access token', () => {
    const st = new MemStore();
    const now = Date.parse('2026-11-24T21:00:00Z');
    saveAccess(st, 'p', { token: 'A', expiresAt: '2026-11-24T21:10:00Z' });
    expect(loadAccess(st, 'p', now)?.token).toBe('A');
    expect(loadAccess(st, 'p', now + 11 * 60_000)).toBeNull();
    clearQueue(st, 'p');
    expect(loadAccess(st, 'p', now)).toBeNull();
  });
  it('forgets a place that is gone with its access token, but not a newer ticket another tab got', () => {
    const st = new MemStore();
    const now = Date.parse('2026-11-24T21:00:00Z');
    saveTicket(st, 'p', { ticket: 'T1', position: 3 });
    saveAccess(st, 'p', { token: 'A', expiresAt: '2026-11-24T21:10:00Z' });
    forgetTicket(st, 'p', 'T1');
    expect(loadTicket(st, 'p')).toBeNull();
    expect(loadAccess(st, 'p', now)).toBeNull();
    saveTicket(st, 'p', { ticket: 'T2', position: 9 });
    forgetTicket(st, 'p', 'T1');
    expect(loadTicket(st, 'p')?.ticket).toBe('T2');
  });
  it('remembers the place this browser left, so another tab can say why it is gone', () => {
    const st = new MemStore();
    expect(leftHere(st, 'p', 'T1')).toBe(false);
    markLeft(st, 'p', 'T1');
    expect(leftHere(st, 'p', 'T1')).toBe(true);
    expect(leftHere(st, 'p', 'T2')).toBe(false);
    expect(leftHere(st, 'q', 'T1')).toBe(false);
    st.setItem('tk.left.p', '{broken');
    expect(leftHere(st, 'p', 'T1')).toBe(false);
  });
});

describe('venue CSV import', () => {
  it('parses rows into sections in order, with an optional header and quotes', () => {
    const r = parseVenueCsv('section,row,seats,grade\nA,1,10,VIP\nA,2,12,R\n"Balcony, left",1,8,S\n');
    expect(r.errors).toEqual([]);
    expect(r.sections).toEqual([
      { name: 'A', rows: [{ label: '1', seats: 10, grade: 'VIP' }, { label: '2', seats: 12, grade: 'R' }] },
      { name: 'Balcony, left', rows: [{ label: '1', seats: 8, grade: 'S' }] },
    ]);
    expect(venueGrades(r.sections)).toEqual(['VIP', 'R', 'S']);
  });
  it('reports bad lines with their numbers', () => {
    const r = parseVenueCsv('A,1,10,R\nA,1,5,R\nB,1,x,S\nC,1,3\n');
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(parseVenueCsv('').errors).toHaveLength(1);
  });
  it('splits quoted fields', () => {
    expect(splitCsvLine('"a ""b""",c')).toEqual(['a "b"', 'c']);
  });
});

describe('dashboard series', () => {
  const stats = (expired: number, waiting = 0): Stats => ({
    waiting, admitted_total: 0, active: 0, holds_active: 0, holds_expired_total: expired,
    seats: { available: 10, held: 0, sold: 0 }, orders_paid: 0, admission_rate_per_s: 0,
  });
  it('derives the hold-expiry rate from the counter and keeps a window', () => {
    const s = new Series(10);
    expect(s.push(100, stats(0)).expiryRate).toBe(0);
    expect(s.push(102, stats(6)).expiryRate).toBe(3);
    expect(s.push(103, stats(2)).expiryRate).toBe(0);  // counter reset
    s.push(120, stats(2, 5));
    expect(s.t).toEqual([120]);
    expect(s.waiting).toEqual([5]);
  });
});
