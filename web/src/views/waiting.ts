import { ApiError, call, type Performance, type QueueJoin, type QueueStatus } from '../api';
import { h, message } from '../dom';
import { formatWait, t } from '../i18n';
import { backoffMs, pollDelayMs, queueProgress } from '../logic/poll';
import { clearQueue, loadAccess, loadTicket, noteAhead, saveAccess, saveTicket, type StoredTicket } from '../logic/queue-store';
import { later, navigate, type ViewCtx } from '../router';
import { announce, errorBox, handleAuthError, requireSession } from './common';
import { loadShow, showCard } from './context';

export async function waitingView({ main, params, signal }: ViewCtx): Promise<void> {
  const s = requireSession();
  if (!s) return;
  const pid = params.pid;
  const seatsUrl = `/p/${encodeURIComponent(pid)}/seats`;
  if (loadAccess(localStorage, pid)) { navigate(seatsUrl, true); return; }

  main.appendChild(h('h1', {}, t('queue.title')));
  const sub = h('div');
  main.appendChild(sub);
  const status = h('div', { 'aria-live': 'polite' }, message('info', t('queue.joining')));
  const pos = h('output', { class: 'big', 'data-testid': 'queue-position' }, '…');
  const ahead = h('output', { class: 'big', 'data-testid': 'queue-ahead' }, '…');
  const wait = h('output', { class: 'big', 'data-testid': 'queue-wait' }, '…');
  const bar = h('div', { class: 'bar-fill' });
  const progress = h('div', { class: 'bar', role: 'progressbar', 'aria-label': t('queue.progress'), 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'data-testid': 'queue-progress' }, bar);
  const next = h('p', { class: 'muted small', 'data-testid': 'queue-next' });
  main.appendChild(h('section', { class: 'queue card', 'aria-labelledby': 'qh' },
    h('h2', { id: 'qh', class: 'sr-only' }, t('queue.title')),
    h('dl', { class: 'stats' },
      h('div', {}, h('dt', {}, t('queue.position')), h('dd', {}, pos)),
      h('div', {}, h('dt', {}, t('queue.ahead')), h('dd', {}, ahead)),
      h('div', {}, h('dt', {}, t('queue.wait')), h('dd', {}, wait))),
    progress, status, next, h('p', { class: 'small' }, t('queue.keep'))));

  // Title and status of the performance (paused: people keep waiting).
  let perf: Performance | null = null;
  const refreshPerf = async () => {
    try {
      perf = (await call<Performance>('GET', `/v1/performances/${encodeURIComponent(pid)}`, { signal })).data;
    } catch { /* shown by the poll if it matters */ }
  };
  try {
    const show = await loadShow(pid, signal);
    perf = show.perf;
    sub.replaceChildren(showCard(show));
  } catch { await refreshPerf(); }

  let ticket: StoredTicket | null = loadTicket(localStorage, pid, s.email);
  const join = async (): Promise<boolean> => {
    try {
      const { data } = await call<QueueJoin>('POST', `/v1/performances/${encodeURIComponent(pid)}/queue`, { session: s.token, signal });
      ticket = { ticket: data.ticket, position: data.position, account: s.email };
      saveTicket(localStorage, pid, ticket);
      return true;
    } catch (e) {
      if (handleAuthError(e)) return false;
      status.replaceChildren(errorBox(e));
      return false;
    }
  };
  if (!ticket && !(await join())) return;

  let failures = 0;
  let polls = 0;
  const show = (st: QueueStatus) => {
    pos.textContent = String(st.position);
    ahead.textContent = String(st.ahead);
    // While the sale is paused nobody moves: no estimate rather than a meaningless one.
    wait.textContent = perf?.status === 'paused' && st.state === 'waiting' ? '—' : formatWait(st.estimated_wait_seconds);
    if (ticket) ticket = noteAhead(localStorage, pid, ticket, st.ahead);
    const pct = Math.round(100 * (st.state === 'admitted' ? 1 : queueProgress(ticket?.firstAhead ?? st.ahead, st.ahead)));
    bar.style.width = `${pct}%`;
    progress.setAttribute('aria-valuenow', String(pct));
  };
  const poll = async (): Promise<void> => {
    if (signal.aborted || !ticket) return;
    let delay: number;
    try {
      const res = await call<QueueStatus>('GET', `/v1/performances/${encodeURIComponent(pid)}/queue/status`, { ticket: ticket.ticket, signal });
      failures = 0;
      const st = res.data;
      show(st);
      if (st.state === 'admitted' && st.access_token && st.access_expires_at) {
        saveAccess(localStorage, pid, { token: st.access_token, expiresAt: st.access_expires_at });
        status.replaceChildren(message('success', t('queue.admitted'), 'queue-admitted'));
        announce(t('queue.admitted'));
        later(signal, 600, () => navigate(seatsUrl, true));
        return;
      }
      if (st.state === 'sold_out' || st.state === 'closed' || st.state === 'expired') {
        status.replaceChildren(message('warning', t(`queue.${st.state}`), 'queue-final'));
        next.textContent = '';
        return;
      }
      status.replaceChildren(perf?.status === 'paused' ? message('info', t('queue.paused')) : h('span'));
      delay = pollDelayMs(res.headers.get('Retry-After'), Date.now(), Math.random());
      if (++polls % 5 === 0) void refreshPerf();
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') return;
      if (e instanceof ApiError && e.code === 'invalid_ticket') {
        clearQueue(localStorage, pid);
        ticket = null;
        status.replaceChildren(errorBox(e));
        if (await join()) later(signal, 500, () => void poll());
        return;
      }
      failures++;
      status.replaceChildren(errorBox(e));
      delay = backoffMs(failures, e instanceof ApiError ? e.retryAfter : null);
    }
    next.textContent = t('queue.next', { s: Math.round(delay / 1000) });
    later(signal, delay, () => void poll());
  };
  // Another tab admitted with the same ticket: follow it.
  const onStorage = (e: StorageEvent) => { if (e.key === `tk.access.${pid}` && loadAccess(localStorage, pid)) navigate(seatsUrl, true); };
  window.addEventListener('storage', onStorage);
  signal.addEventListener('abort', () => window.removeEventListener('storage', onStorage), { once: true });
  await poll();
}
