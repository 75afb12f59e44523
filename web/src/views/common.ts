import { ApiError, call, type Order } from '../api';
import { errorText, t } from '../i18n';
import { NetworkError } from '../logic/idempotency';
import { message } from '../dom';
import { navigate } from '../router';
import { clearSession, session, type Session } from '../state';

/** A readable message for any failure: never a stack trace. */
export function describe(e: unknown): string {
  if (e instanceof NetworkError) return t('common.network');
  if (e instanceof ApiError) {
    const field = String((e.details as { field?: unknown }).field ?? '');
    return errorText(e.code, { field });
  }
  return t('common.error');
}

export function errorBox(e: unknown): HTMLElement { return message('error', describe(e), 'error'); }

/** The session, or a redirect to the log-in page that comes back here. */
export function requireSession(): Session | null {
  const s = session();
  if (!s) navigate(`/login?next=${encodeURIComponent(location.pathname)}`, true);
  return s;
}

/** On 401 with a session: it ended; log in again. Returns true when handled. */
export function handleAuthError(e: unknown): boolean {
  if (e instanceof ApiError && e.status === 401 && e.code === 'unauthenticated') {
    clearSession();
    navigate(`/login?next=${encodeURIComponent(location.pathname)}`, true);
    return true;
  }
  return false;
}

export function announce(text: string): void {
  const live = document.getElementById('live');
  if (live) live.textContent = text;
}

/** The step after every hold (one made on the seat map, or a waiting-list offer): its order, then
 *  the payment page. The hold is remembered per performance as the seat map keeps it, so the map
 *  shows it as the buyer's and the payment page forgets it once paid or run out. */
export async function checkout(token: string, pid: string, holdId: string): Promise<void> {
  const { data } = await call<Order>('POST', '/v1/orders', { session: token, body: { hold_id: holdId } });
  localStorage.setItem(`tk.hold.${pid}`, JSON.stringify({ hold_id: holdId, seat_ids: data.seat_ids, expires_at: data.expires_at }));
  navigate(`/orders/${encodeURIComponent(data.id)}`);
}
