import { ApiError, call, type Performance, type PowChallenge, type QueueJoin, type QueueStatus } from '../api';
import { h, message } from '../dom';
import { formatWait, t } from '../i18n';
import { backoffMs, pollDelayMs, queueProgress } from '../logic/poll';
import { expectedHashes } from '../logic/pow';
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

  // Proof of work (when the sale asks for one): a challenge solved in a Web Worker, with progress.
  const prove = async (): Promise<{ challenge: string; nonce: string }> => {
    const { data: c } = await call<PowChallenge>('GET', `/v1/performances/${encodeURIComponent(pid)}/queue/challenge`, { session: s.token, signal });
    const expected = expectedHashes(c.difficulty);
    const say = (tried: number) => status.replaceChildren(
      message('info', t('queue.pow', { pct: Math.min(99, Math.floor((100 * tried) / expected)) }), 'queue-pow'));
    say(0);
    return new Promise((resolve, reject) => {
      const w = new Worker(new URL('../pow-worker.ts', import.meta.url), { type: 'module' });
      const onAbort = () => { w.terminate(); reject(new DOMException('aborted', 'AbortError')); };
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => { w.terminate(); signal.removeEventListener('abort', onAbort); };
      w.onmessage = (e: MessageEvent<{ nonce?: string; tried: number }>) => {
        if (e.data.nonce) { done(); resolve({ challenge: c.challenge, nonce: e.data.nonce }); } else say(e.data.tried);
      };
      w.onerror = () => { done(); reject(new Error(t('queue.pow_failed'))); };
      w.postMessage({ challenge: c.challenge, difficulty: c.difficulty });
    });
  };

  let ticket: StoredTicket | null = loadTicket(localStorage, pid, s.email);
  const join = async (): Promise<boolean> => {
    const url = `/v1/performances/${encodeURIComponent(pid)}/queue`;
    const post = async (pow?: { challenge: string; nonce: string }) =>
      (await call<QueueJoin>('POST', url, { session: s.token, signal, body: pow ? { pow } : undefined })).data;
    try {
      let data: QueueJoin;
      try {
        data = await post((perf?.queue?.pow_difficulty ?? 0) > 0 ? await prove() : undefined);
      } catch (e) {
        // The sale started asking for a proof, or the one sent ran out: one more, freshly solved.
        if (!(e instanceof ApiError && (e.code === 'challenge_required' || e.code === 'challenge_invalid'))) throw e;
        data = await post(await prove());
      }
      ticket = { ticket: data.ticket, position: data.position, account: s.email };
      saveTicket(localStorage, pid, ticket);
      status.replaceChildren(message('info', t('queue.joining')));
      return true;
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' || handleAuthError(e)) return false;
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
