import { describe, expect, it } from 'vitest';
import { abandonedWhy, leaveOffered, statusStep } from '../src/logic/queue-state';

describe('what the waiting room does with a status', () => {
  it('moves on when admitted with an access token, keeps polling without one', () => {
    expect(statusStep({ state: 'admitted', access_token: 'A', access_expires_at: '2027-01-01T00:00:00Z' })).toBe('admitted');
    expect(statusStep({ state: 'admitted' })).toBe('wait');
  });
  it('stops at sold out, closed and expired', () => {
    for (const state of ['sold_out', 'closed', 'expired']) expect(statusStep({ state })).toBe('final');
  });
  it('stops at a place given up', () => {
    expect(statusStep({ state: 'abandoned' })).toBe('abandoned');
  });
  it('keeps polling in line, in the pre-queue and on a state it does not know', () => {
    for (const state of ['waiting', 'pre_queue', 'something_new']) expect(statusStep({ state })).toBe('wait');
  });
});

describe('leaving the queue', () => {
  it('is offered while waiting in line or admitted, not in the pre-queue or once over', () => {
    expect(leaveOffered('waiting')).toBe(true);
    expect(leaveOffered('admitted')).toBe(true);
    for (const s of ['pre_queue', 'expired', 'sold_out', 'closed', 'abandoned', null]) expect(leaveOffered(s)).toBe(false);
  });
  it('explains a place given up: left in this browser, not checked in for too long, or unknown', () => {
    expect(abandonedWhy(true, 30)).toBe('left');
    expect(abandonedWhy(true, 0)).toBe('left');
    expect(abandonedWhy(false, 30)).toBe('timeout');
    expect(abandonedWhy(false, 0)).toBe('unknown');
  });
});
