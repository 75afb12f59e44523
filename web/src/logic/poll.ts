// Polling cadence of the waiting room: the server says when to ask again (Retry-After, whole
// seconds >= 1, short near the front and long at the back). We follow it, within sane bounds, and
// add a little jitter so a crowd that loaded the page together does not poll in lock-step.

export const MIN_POLL_MS = 1000;
export const MAX_POLL_MS = 60_000;
export const DEFAULT_POLL_MS = 2000;

/** A Retry-After header value (whole seconds or an HTTP date) in milliseconds; null if neither. */
export function retryAfterMs(retryAfter: string | null | undefined, now: number = Date.now()): number | null {
  const v = (retryAfter ?? '').trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (/[a-z]/i.test(v)) {  // an HTTP date; a bare '-3' is no date
    const at = Date.parse(v);
    if (!Number.isNaN(at)) return at - now;
  }
  return null;
}

// jitter in [0, 1): up to +10 %, never shorter than the server asked.
const withJitter = (ms: number, jitter: number): number =>
  Math.round(ms * (1 + 0.1 * Math.min(Math.max(jitter, 0), 1)));

/** Milliseconds until the next poll from a Retry-After header value (seconds or an HTTP date). */
export function pollDelayMs(retryAfter: string | null | undefined, now: number = Date.now(),
                            jitter: number = 0): number {
  const ms = retryAfterMs(retryAfter, now) ?? DEFAULT_POLL_MS;
  return withJitter(Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, ms)), jitter);
}

// The service asks a crowd it cannot take in yet to come back over as long as serving it takes
// (up to two minutes, spread); a page that retried sooner would only be refused again.
export const MAX_JOIN_RETRY_MS = 180_000;

/**
 * After a join was refused: milliseconds until the page tries again by itself, or null when the
 * refusal is not one to wait out (anything but 503 or 429 with a Retry-After).
 */
export function joinRetryMs(status: number, retryAfter: string | null | undefined,
                            now: number = Date.now(), jitter: number = 0): number | null {
  if (status !== 503 && status !== 429) return null;
  const ms = retryAfterMs(retryAfter, now);
  if (ms === null) return null;
  return withJitter(Math.min(MAX_JOIN_RETRY_MS, Math.max(MIN_POLL_MS, ms)), jitter);
}

/** Delay after a failed poll (network error or 503): exponential backoff, capped. */
export function backoffMs(failures: number, retryAfter?: string | null): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.max(base, retryAfter ? pollDelayMs(retryAfter) : 0);
}

/**
 * Progress through the queue in [0, 1]: how much of the distance from the first `ahead` we saw
 * has been covered. `firstAhead` is the largest number ahead seen for this ticket.
 */
export function queueProgress(firstAhead: number, ahead: number): number {
  if (firstAhead <= 0) return ahead <= 0 ? 1 : 0;
  return Math.min(1, Math.max(0, 1 - ahead / firstAhead));
}
