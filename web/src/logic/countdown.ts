// Countdown of a hold (or order) from its expires_at, against the server's clock: `skewMs` is
// server time minus local time (from the Date header), so a wrong local clock does not lie.

export function remainingMs(expiresAt: string, now: number = Date.now(), skewMs = 0): number {
  const end = Date.parse(expiresAt);
  if (Number.isNaN(end)) return 0;
  return Math.max(0, end - (now + skewMs));
}

/** "m:ss" (or "h:mm:ss" from one hour), rounding up so 0:00 means really over. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Server minus local clock from a response's Date header (0 when absent or unparsable). */
export function clockSkewMs(dateHeader: string | null, localNow: number = Date.now()): number {
  if (!dateHeader) return 0;
  const t = Date.parse(dateHeader);
  if (Number.isNaN(t)) return 0;
  const skew = t - localNow;
  // Date has a one-second resolution: ignore skews below it.
  return Math.abs(skew) < 1500 ? 0 : skew;
}

/** Urgency level for styling: the last minute is urgent, the last 15 s critical. */
export function urgency(ms: number): 'normal' | 'urgent' | 'critical' {
  if (ms <= 15_000) return 'critical';
  if (ms <= 60_000) return 'urgent';
  return 'normal';
}

/** The words that go with an urgency level (colour alone tells nobody who cannot see it), or
 *  null while there is time. */
export function urgencyWarning(ms: number): 'countdown.minute' | 'countdown.critical' | null {
  const u = urgency(ms);
  return u === 'critical' ? 'countdown.critical' : u === 'urgent' ? 'countdown.minute' : null;
}

/** A live region that says the warning once per level change, not on every tick. */
export class WarningText {
  private last: string | null = null;
  constructor(private readonly set: (key: string | null) => void) {}
  update(ms: number): void {
    const k = urgencyWarning(ms);
    if (k === this.last) return;
    this.last = k;
    this.set(k);
  }
}
