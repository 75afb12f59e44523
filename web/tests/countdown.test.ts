import { describe, expect, it } from 'vitest';
import { WarningText, clockSkewMs, formatCountdown, remainingMs, urgency, urgencyWarning } from '../src/logic/countdown';

describe('hold countdown', () => {
  const now = Date.parse('2026-11-24T21:00:00.000Z');
  it('counts down to expires_at and stops at zero', () => {
    expect(remainingMs('2026-11-24T21:05:00.000Z', now)).toBe(300_000);
    expect(remainingMs('2026-11-24T20:59:00.000Z', now)).toBe(0);
    expect(remainingMs('garbage', now)).toBe(0);
  });
  it('corrects for the server clock', () => {
    // The server is 10 s ahead of us: 10 s less remain.
    expect(remainingMs('2026-11-24T21:05:00.000Z', now, 10_000)).toBe(290_000);
    expect(clockSkewMs('Tue, 24 Nov 2026 21:00:10 GMT', now)).toBe(10_000);
    expect(clockSkewMs('Tue, 24 Nov 2026 21:00:01 GMT', now)).toBe(0);  // under Date's resolution
    expect(clockSkewMs(null, now)).toBe(0);
  });
  it('formats m:ss, rounding up', () => {
    expect(formatCountdown(300_000)).toBe('5:00');
    expect(formatCountdown(299_001)).toBe('5:00');
    expect(formatCountdown(298_500)).toBe('4:59');
    expect(formatCountdown(59_000)).toBe('0:59');
    expect(formatCountdown(1)).toBe('0:01');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5)).toBe('0:00');
    expect(formatCountdown(3_725_000)).toBe('1:02:05');
  });
  it('gets urgent in the last minute', () => {
    expect(urgency(120_000)).toBe('normal');
    expect(urgency(60_000)).toBe('urgent');
    expect(urgency(15_000)).toBe('critical');
  });
});

describe('countdown warnings in words', () => {
  it('names the last minute and the last 15 seconds, nothing before', () => {
    expect(urgencyWarning(61_000)).toBeNull();
    expect(urgencyWarning(60_000)).toBe('countdown.minute');
    expect(urgencyWarning(15_000)).toBe('countdown.critical');
    expect(urgencyWarning(0)).toBe('countdown.critical');
  });
  it('speaks once per level, not once per tick', () => {
    const said: (string | null)[] = [];
    const w = new WarningText((k) => said.push(k));
    for (const ms of [90_000, 89_000, 59_000, 58_000, 30_000, 14_000, 13_000]) w.update(ms);
    expect(said).toEqual(['countdown.minute', 'countdown.critical']);
  });
});
