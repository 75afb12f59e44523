// Operator times are typed in the venue's time zone (KST, UTC+9 all year: Korea has no daylight
// saving time), whatever the operator's computer is set to; the API speaks UTC (RFC 3339).

const KST_OFFSET_MS = 9 * 3600_000;

/** "2027-05-01T19:30" in KST -> "2027-05-01T10:30:00Z"; null when not a date and time. */
export function kstInputToIso(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const utc = Date.UTC(y, mo - 1, d, h, mi) - KST_OFFSET_MS;
  if (Number.isNaN(utc)) return null;
  return new Date(utc).toISOString().replace('.000Z', 'Z');
}

/** An instant -> "2027-05-01T19:30" in KST, for a datetime-local input. */
export function isoToKstInput(iso: string | number | Date): string {
  const d = new Date(new Date(iso).getTime() + KST_OFFSET_MS);
  return d.toISOString().slice(0, 16);
}

/** Seconds typed by an operator -> whole milliseconds (the API's interval_ms). */
export function secondsToMs(value: string): number { return Math.round(Number(value) * 1000); }
export function msToSeconds(ms: number): string { return String(ms / 1000); }
