import { describe, expect, it } from 'vitest';
import { isoToKstInput, kstInputToIso, msToSeconds, secondsToMs } from '../src/logic/kst';

describe('operator times in KST', () => {
  it('reads a typed time as KST, whatever the computer is set to', () => {
    expect(kstInputToIso('2027-05-01T19:30')).toBe('2027-05-01T10:30:00Z');
    expect(kstInputToIso('2027-01-01T03:00')).toBe('2026-12-31T18:00:00Z');
    expect(kstInputToIso('tomorrow')).toBeNull();
  });
  it('writes an instant back as KST', () => {
    expect(isoToKstInput('2027-05-01T10:30:00Z')).toBe('2027-05-01T19:30');
    expect(isoToKstInput(kstInputToIso('2027-12-31T23:59') as string)).toBe('2027-12-31T23:59');
  });
  it('turns the interval in seconds into milliseconds and back', () => {
    expect(secondsToMs('1.5')).toBe(1500);
    expect(secondsToMs('0.05')).toBe(50);
    expect(msToSeconds(1500)).toBe('1.5');
  });
});
