// Presence in the waiting room. When a performance sets `queue.presence_timeout_seconds`, a ticket
// that stops polling for that long is skipped when its turn comes. The server keeps Retry-After at
// most a third of the timeout; the page holds itself to that too (after failures as well), and
// keeps to its schedule while the tab is in the background: browsers slow the timers of a hidden
// page down (Chrome to once a minute after a few minutes), not those of a worker, so the poll
// clock also runs in a dedicated worker, and a page coming back to the front polls at once when a
// poll is overdue. Whichever clock fires first polls; the others are cancelled.
import { MIN_POLL_MS } from './poll';

export const PRESENCE_MIN_S = 10;
export const PRESENCE_MAX_S = 3600;

/** The performance's presence timeout in seconds when presence is on, else 0. */
export function presenceSeconds(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

/** The longest wait between two polls that keeps the place: a third of the timeout (Infinity when
 *  presence is off). */
export function presenceCapMs(timeoutS: number): number {
  return timeoutS > 0 ? Math.max(MIN_POLL_MS, Math.floor((timeoutS * 1000) / 3)) : Infinity;
}

/** The delay until the next poll, kept within presence's cap. */
export function presentDelayMs(delayMs: number, timeoutS: number): number {
  return Math.min(delayMs, presenceCapMs(timeoutS));
}

/** Whether a poll due at `dueAt` should have happened by `now` (its timer was slowed down). */
export function pollOverdue(dueAt: number | null, now: number): boolean {
  return dueAt !== null && now >= dueAt;
}

/** The operator's presence timeout as typed: 0 (off) or 10..3600 whole seconds, else null. */
export function parsePresenceTimeout(value: string): number | null {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n === 0 || (n >= PRESENCE_MIN_S && n <= PRESENCE_MAX_S) ? n : null;
}

// Idle buyers. When a performance sets `queue.idle_timeout_seconds`, an admitted buyer whose access
// token goes unused for that long gives the place back. The seat map uses it every 2 s anyway; the
// checkout page, which has no other use for it, sends a keep-alive several times per timeout, so a
// single delayed request never costs the place a buyer needs to choose again after a declined card.
export const IDLE_MIN_S = 30;
export const IDLE_MAX_S = 3600;
export const IDLE_KEEPALIVE_MIN_MS = 5000;
export const IDLE_KEEPALIVE_MAX_MS = 20_000;

/** The operator's idle timeout as typed: 0 (off) or 30..3600 whole seconds, else null. */
export function parseIdleTimeout(value: string): number | null {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n === 0 || (n >= IDLE_MIN_S && n <= IDLE_MAX_S) ? n : null;
}

/** How often the checkout page uses the access token: a third of the idle timeout, within 5..20 s;
 *  null when the timeout is off (0, missing or nonsense). */
export function idleKeepAliveMs(idleTimeoutS: unknown): number | null {
  const s = presenceSeconds(idleTimeoutS);
  if (s <= 0) return null;
  return Math.min(IDLE_KEEPALIVE_MAX_MS, Math.max(IDLE_KEEPALIVE_MIN_MS, Math.floor((s * 1000) / 3)));
}

/** A one-shot timer: the page's own setTimeout, or one in a worker. */
export interface TimerSource {
  start(ms: number, f: () => void): void;
  cancel(): void;
}

/**
 * When the waiting room polls next. `after(ms)` arms every clock `timers()` gives (the page's, and
 * the worker's under presence); the first to fire runs the poll once and cancels the others.
 * `visible()` (the page came back to the front) polls at once when the poll is overdue, and
 * `hurry()` polls at once whatever the time (another tab changed the ticket).
 */
export class PollSchedule {
  private due: number | null = null;
  private armed: TimerSource[] = [];

  constructor(private readonly timers: () => TimerSource[], private readonly now: () => number,
              private readonly run: () => void) {}

  /** When the next poll is due (ms since the epoch), or null when none is waiting. */
  get dueAt(): number | null { return this.due; }

  after(ms: number): void {
    this.stop();
    this.due = this.now() + ms;
    this.armed = this.timers();
    for (const t of this.armed) t.start(ms, this.fire);
  }

  visible(): void { if (pollOverdue(this.due, this.now())) this.fire(); }

  hurry(): void { this.fire(); }

  stop(): void {
    for (const t of this.armed) t.cancel();
    this.armed = [];
    this.due = null;
  }

  private readonly fire = (): void => {
    if (this.due === null) return;
    this.stop();
    this.run();
  };
}
