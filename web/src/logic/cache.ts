// Which HTTP cache mode a request uses. The public catalogue (events, performances, venue
// layouts) carries ETag and Cache-Control: the browser keeps it and revalidates with
// If-None-Match, so a reload costs a 304 or nothing. Anything sent with credentials, a queue
// ticket or a body is personal or a write: never stored.

export interface CacheInputs {
  body?: unknown;
  session?: string | null;
  access?: string | null;
  ticket?: string | null;
  /** Ask the server every time (it still answers 304 when nothing changed): for screens that
   * must show a change made a moment ago, such as the operator's list after creating an event. */
  revalidate?: boolean;
}

export function cacheModeFor(method: string, o: CacheInputs): RequestCache {
  const personal = !!(o.session || o.access || o.ticket) || o.body !== undefined;
  if (method !== 'GET' || personal) return 'no-store';
  return o.revalidate ? 'no-cache' : 'default';
}
