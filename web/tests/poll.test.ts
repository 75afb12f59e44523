import { describe, expect, it } from 'vitest';
import { DEFAULT_POLL_MS, MAX_JOIN_RETRY_MS, MAX_POLL_MS, MIN_POLL_MS, backoffMs, joinRetryMs, pollDelayMs, queueProgress } from '../src/logic/poll';

describe('poll interval from Retry-After', () => {
  it('follows whole seconds', () => {
    expect(pollDelayMs('5')).toBe(5000);
    expect(pollDelayMs(' 1 ')).toBe(1000);
    expect(pollDelayMs('30')).toBe(30_000);
  });
  it('accepts an HTTP date', () => {
    const now = Date.parse('2026-11-24T21:00:00Z');
    expect(pollDelayMs('Tue, 24 Nov 2026 21:00:07 GMT', now)).toBe(7000);
  });
  it('falls back and clamps', () => {
    expect(pollDelayMs(null)).toBe(DEFAULT_POLL_MS);
    expect(pollDelayMs('soon')).toBe(DEFAULT_POLL_MS);
    expect(pollDelayMs('0')).toBe(MIN_POLL_MS);
    expect(pollDelayMs('-3')).toBe(DEFAULT_POLL_MS);
    expect(pollDelayMs('86400')).toBe(MAX_POLL_MS);
  });
  it('adds at most 10 % jitter and never polls sooner than asked', () => {
    expect(pollDelayMs('10', 0, 0)).toBe(10_000);
    expect(pollDelayMs('10', 0, 0.999)).toBeLessThanOrEqual(11_000);
    expect(pollDelayMs('10', 0, 0.5)).toBe(10_500);
    expect(pollDelayMs('10', 0, 7)).toBe(11_000);
    expect(pollDelayMs('10', 0, -1)).toBe(10_000);
  });
  it('backs off after failures, honouring Retry-After', () => {
    expect(backoffMs(1)).toBe(1000);
    expect(backoffMs(2)).toBe(2000);
    expect(backoffMs(10)).toBe(30_000);
    expect(backoffMs(1, '5')).toBe(5000);
  });
});

describe('queue progress', () => {
  it('is the share of the first distance covered', () => {
    expect(queueProgress(100, 100)).toBe(0);
    expect(queueProgress(100, 25)).toBe(0.75);
    expect(queueProgress(100, 0)).toBe(1);
    expect(queueProgress(0, 0)).toBe(1);
    expect(queueProgress(10, 20)).toBe(0);
  });
});

describe('a join refused at the door', () => {
  it('is tried again when the server says, past the poll cap, with jitter', () => {
    expect(joinRetryMs(503, '90', 0, 0)).toBe(90_000);
    expect(joinRetryMs(503, '90', 0, 0.5)).toBe(94_500);
    expect(joinRetryMs(429, '3', 0, 0)).toBe(3000);
    const now = Date.parse('2026-11-24T21:00:00Z');
    expect(joinRetryMs(503, 'Tue, 24 Nov 2026 21:00:40 GMT', now, 0)).toBe(40_000);
  });
  it('never sooner than a second, never later than the cap', () => {
    expect(joinRetryMs(503, '0', 0, 0)).toBe(MIN_POLL_MS);
    expect(joinRetryMs(503, '86400', 0, 0)).toBe(MAX_JOIN_RETRY_MS);
  });
  it('is not retried by itself without a Retry-After or for other refusals', () => {
    expect(joinRetryMs(503, null)).toBeNull();
    expect(joinRetryMs(503, 'soon')).toBeNull();
    expect(joinRetryMs(409, '5')).toBeNull();
    expect(joinRetryMs(400, '5')).toBeNull();
    expect(joinRetryMs(500, '5')).toBeNull();
  });
});
