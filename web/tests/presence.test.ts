import { describe, expect, it } from 'vitest';
import { MIN_POLL_MS, pollDelayMs } from '../src/logic/poll';
import { PollSchedule, idleKeepAliveMs, parseIdleTimeout, parsePresenceTimeout, pollOverdue, presenceCapMs, presenceSeconds,
  presentDelayMs, type TimerSource } from '../src/logic/presence';

/** A timer that fires only when the test says so (a background tab's may never fire on time). */
class ManualTimer implements TimerSource {
  ms: number | null = null;
  private f: (() => void) | null = null;
  start(ms: number, f: () => void) { this.ms = ms; this.f = f; }
  cancel() { this.ms = null; this.f = null; }
  get armed() { return this.f !== null; }
  fire() { const f = this.f; this.f = null; f?.(); }
}

describe('presence timeout of a performance', () => {
  it('is on for a positive number of seconds, off for 0, missing or nonsense', () => {
    expect(presenceSeconds(30)).toBe(30);
    expect(presenceSeconds(3600)).toBe(3600);
    expect(presenceSeconds(0)).toBe(0);
    expect(presenceSeconds(undefined)).toBe(0);
    expect(presenceSeconds(null)).toBe(0);
    expect(presenceSeconds('30')).toBe(0);
    expect(presenceSeconds(-5)).toBe(0);
    expect(presenceSeconds(Number.NaN)).toBe(0);
  });
  it('keeps polls at most a third of the timeout apart', () => {
    expect(presenceCapMs(30)).toBe(10_000);
    expect(presenceCapMs(10)).toBe(3333);
    expect(presenceCapMs(3600)).toBe(1_200_000);
    expect(presenceCapMs(0)).toBe(Infinity);
    expect(presenceCapMs(1)).toBe(MIN_POLL_MS);   // never more often than the poll floor
  });
  it('shortens a long Retry-After or backoff under presence, and leaves it alone when off', () => {
    expect(presentDelayMs(60_000, 30)).toBe(10_000);
    expect(presentDelayMs(2_000, 30)).toBe(2_000);
    expect(presentDelayMs(60_000, 0)).toBe(60_000);
    // The server's Retry-After of a third of the timeout plus the page's jitter stays within it.
    expect(presentDelayMs(pollDelayMs('10', 0, 0.999), 30)).toBe(10_000);
    expect(presentDelayMs(pollDelayMs('3', 0, 0.999), 10)).toBeLessThanOrEqual(3333);
  });
});

describe('the operator\'s presence timeout', () => {
  it('takes 0 (off) or whole seconds from 10 to 3600', () => {
    expect(parsePresenceTimeout('0')).toBe(0);
    expect(parsePresenceTimeout('10')).toBe(10);
    expect(parsePresenceTimeout(' 120 ')).toBe(120);
    expect(parsePresenceTimeout('3600')).toBe(3600);
  });
  it('refuses 1..9, more than an hour, fractions, negatives, empty and words', () => {
    for (const v of ['1', '9', '3601', '86400', '12.5', '-10', '', ' ', 'ten', '1e2', '0x10']) {
      expect(parsePresenceTimeout(v), JSON.stringify(v)).toBeNull();
    }
  });
});

describe('the operator\'s idle timeout', () => {
  it('takes 0 (off) or whole seconds from 30 to 3600', () => {
    expect(parseIdleTimeout('0')).toBe(0);
    expect(parseIdleTimeout('30')).toBe(30);
    expect(parseIdleTimeout(' 90 ')).toBe(90);
    expect(parseIdleTimeout('3600')).toBe(3600);
  });
  it('refuses 1..29, more than an hour, fractions, negatives, empty and words', () => {
    for (const v of ['1', '10', '29', '3601', '86400', '45.5', '-30', '', ' ', 'sixty', '6e1', '0x30']) {
      expect(parseIdleTimeout(v), JSON.stringify(v)).toBeNull();
    }
  });
});

describe('keep-alive of the checkout page under an idle timeout', () => {
  it('is off when the timeout is off, missing or nonsense', () => {
    for (const v of [0, undefined, null, -30, Number.NaN, '60']) expect(idleKeepAliveMs(v), String(v)).toBeNull();
  });
  it('uses the access a third of the timeout apart, from 5 s to 20 s', () => {
    expect(idleKeepAliveMs(30)).toBe(10_000);
    expect(idleKeepAliveMs(45)).toBe(15_000);
    expect(idleKeepAliveMs(60)).toBe(20_000);
    expect(idleKeepAliveMs(3600)).toBe(20_000);   // a long timeout still gets several uses
    expect(idleKeepAliveMs(10)).toBe(5000);       // never more often than every 5 s
  });
  it('fits at least three uses into every timeout the operator may set', () => {
    for (let s = 30; s <= 3600; s++) {
      const ms = idleKeepAliveMs(s)!;
      expect(ms * 3, String(s)).toBeLessThanOrEqual(s * 1000);
      expect(parseIdleTimeout(String(s))).toBe(s);
    }
  });
});

describe('poll schedule', () => {
  const setup = (clocks = 1) => {
    let now = 1_000_000;
    const timers = Array.from({ length: clocks }, () => new ManualTimer());
    let runs = 0;
    const s = new PollSchedule(() => timers, () => now, () => { runs++; });
    return { s, timers, runs: () => runs, advance: (ms: number) => { now += ms; }, now: () => now };
  };

  it('arms every clock and polls once, when the first of them fires', () => {
    const { s, timers, runs } = setup(2);
    s.after(5000);
    expect(timers.map((t) => t.ms)).toEqual([5000, 5000]);
    timers[1].fire();   // the worker's clock, while the hidden page's is held back
    expect(runs()).toBe(1);
    expect(timers[0].armed).toBe(false);   // the other clock was cancelled
    timers[0].fire();
    expect(runs()).toBe(1);
    expect(s.dueAt).toBeNull();
  });

  it('polls at once when the page comes back to the front after the poll was due', () => {
    const { s, runs, advance } = setup();
    s.after(5000);
    advance(4000);
    s.visible();
    expect(runs()).toBe(0);   // not due yet: the timer will do
    advance(56_000);          // the background tab's timer was held back for a minute
    s.visible();
    expect(runs()).toBe(1);
    s.visible();
    expect(runs()).toBe(1);   // nothing more is due
  });

  it('knows when a poll is overdue', () => {
    expect(pollOverdue(null, 5)).toBe(false);
    expect(pollOverdue(10, 9)).toBe(false);
    expect(pollOverdue(10, 10)).toBe(true);
    expect(pollOverdue(10, 70_010)).toBe(true);
  });

  it('replaces a pending poll, and stops for good', () => {
    const { s, timers, runs, advance, now } = setup();
    s.after(5000);
    s.after(1000);
    expect(timers[0].ms).toBe(1000);
    expect(s.dueAt).toBe(now() + 1000);
    s.stop();
    expect(timers[0].armed).toBe(false);
    advance(10_000);
    s.visible();
    s.hurry();
    expect(runs()).toBe(0);
  });

  it('hurries a pending poll (another tab changed the ticket), never one that is not waiting', () => {
    const { s, runs } = setup();
    s.hurry();
    expect(runs()).toBe(0);
    s.after(30_000);
    s.hurry();
    expect(runs()).toBe(1);
  });

  it('asks which clocks to use at every poll (presence may be turned on meanwhile)', () => {
    let presence = 0;
    const page = new ManualTimer(), worker = new ManualTimer();
    const s = new PollSchedule(() => (presence > 0 ? [page, worker] : [page]), () => 0, () => {});
    s.after(2000);
    expect([page.armed, worker.armed]).toEqual([true, false]);
    presence = 30;
    s.after(2000);
    expect([page.armed, worker.armed]).toEqual([true, true]);
  });
});
