// The HTTP API (docs/API.md), same origin. Errors become ApiError with the contract's code;
// a failed fetch (connection lost) becomes NetworkError, which callers may retry.
import { NetworkError } from './logic/idempotency';
import { clockSkewMs } from './logic/countdown';
import { cacheModeFor } from './logic/cache';

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string,
              public details: Record<string, unknown> = {}, public retryAfter: string | null = null) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Reply<T> { status: number; data: T; headers: Headers }

export interface CallOptions {
  body?: unknown;
  session?: string | null;   // Authorization: Bearer (buyer session or admin token)
  access?: string | null;    // Access-Token
  ticket?: string | null;    // Queue-Ticket
  idempotencyKey?: string;
  signal?: AbortSignal;
  revalidate?: boolean;      // public GET: always ask the server (304 when unchanged)
}

/** Server minus local clock, learnt from the Date header of every answer. */
export let serverSkewMs = 0;

export async function call<T = unknown>(method: string, path: string, o: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  if (o.session) headers.Authorization = `Bearer ${o.session}`;
  if (o.access) headers['Access-Token'] = o.access;
  if (o.ticket) headers['Queue-Ticket'] = o.ticket;
  if (o.idempotencyKey) headers['Idempotency-Key'] = o.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, {
      method, headers, signal: o.signal, credentials: 'same-origin', cache: cacheModeFor(method, o),
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new NetworkError(String((e as Error)?.message ?? e));
  }
  serverSkewMs = clockSkewMs(res.headers.get('Date'));
  const text = await res.text().catch(() => '');
  let data: unknown = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? res.statusText,
                       err?.details ?? {}, res.headers.get('Retry-After'));
  }
  return { status: res.status, data: data as T, headers: res.headers };
}

// ---- shapes of the contract ----
export interface PerformanceSummary { id: string; starts_at: string; sale_opens_at: string; status: string; queue_opens_at?: string }
export interface EventInfo { id: string; title: string; venue: { id: string; name: string }; performances: PerformanceSummary[] }
export interface PriceGrade { grade: string; price_cents: number; currency: string }
// `presence_timeout_seconds`: 0 = off; otherwise (10..3600) a waiting ticket that stops polling for
// that long is skipped when its turn comes, and polls as `abandoned` afterwards.
// `idle_timeout_seconds`: 0 = off; otherwise (30..3600) an admitted buyer whose access token goes
// unused for that long gives the place back (holds already made stay theirs).
export interface QueueSettings {
  admit_per_interval: number; interval_ms: number; max_active: number; access_ttl_seconds: number;
  pow_difficulty?: number; presence_timeout_seconds?: number; idle_timeout_seconds?: number;
}
export interface PowChallenge { challenge: string; difficulty: number; expires_at: string }
export interface Performance {
  id: string; event_id: string; venue_id: string; starts_at: string; sale_opens_at: string; status: string;
  max_seats_per_order: number; max_seats_per_account: number; hold_ttl_seconds: number;
  refundable_until?: string;
  queue_opens_at?: string;   // present when the performance has a pre-queue
  price_grades: PriceGrade[]; queue?: QueueSettings;
}
// In the pre-queue (`state` "pre_queue") there is no position yet: it is drawn at the opening.
// `entry_id` names the entry in the draw's public list (GET .../queue/fairness/entries).
export interface QueueJoin { ticket: string; position: number | null; state: string; entry_id?: string }
export interface QueueLineStatus {
  state: 'pre_queue' | 'waiting' | 'admitted' | 'expired' | 'sold_out' | 'closed';
  position: number | null; ahead: number; estimated_wait_seconds: number;
  entry_id?: string;
  access_token?: string; access_expires_at?: string;
}
// The place was given up: the buyer left (DELETE .../queue), or, with presence on, the ticket
// stopped polling and was skipped when its turn came. No position, ahead or access token; joining
// again gives a new place at the back.
export interface QueueAbandoned {
  state: 'abandoned';
  position?: null; ahead?: number; estimated_wait_seconds?: number; entry_id?: string;
  access_token?: undefined; access_expires_at?: undefined;
}
export type QueueStatus = QueueLineStatus | QueueAbandoned;

/** Gives the place in the waiting room up (204; leaving twice is 204 too). An admitted buyer's
 *  access token stops working and the capacity goes to the next in line. */
export async function leaveQueue(pid: string, ticket: string, signal?: AbortSignal): Promise<void> {
  await call<null>('DELETE', `/v1/performances/${encodeURIComponent(pid)}/queue`, { ticket, signal });
}
export interface SectionSummary {
  version: number;
  sections: { name: string; seats: number; available: number; held: number; sold: number; grades: string[] }[];
}
export interface SeatStates { version: number; seats: { id: string; state: 'available' | 'held' | 'sold' }[] }
export interface Hold { hold_id: string; seat_ids: string[]; expires_at: string }
export interface Ticket { id: string; seat_id: string; code: string; status?: 'valid' | 'checked_in' | 'void'; checked_in_at?: string }
export interface CheckedIn { ticket_id: string; seat_id: string; performance_id: string; checked_in_at: string }
export interface Order {
  id: string; status: 'pending' | 'paid' | 'expired' | 'cancelled' | 'refund_pending' | 'refunded'; performance_id: string; hold_id: string;
  seat_ids: string[]; total_cents: number; currency: string; expires_at: string; tickets?: Ticket[];
}
export interface Stats {
  waiting: number; admitted_total: number; active: number; holds_active: number; holds_expired_total: number;
  seats: { available: number; held: number; sold: number }; orders_paid: number; admission_rate_per_s: number;
}
