import { ApiError, call, leaveQueue, serverSkewMs, type Performance, type PowChallenge, type QueueJoin, type QueueLineStatus,
  type QueueStatus } from '../api';
import { h, message } from '../dom';
import { formatDate, formatTimeout, formatWait, t, type Key } from '../i18n';
import { formatCountdown } from '../logic/countdown';
import { backoffMs, joinRetryMs, pollDelayMs, queueProgress } from '../logic/poll';
import { expectedHashes } from '../logic/pow';
import { PollSchedule, presenceSeconds, presentDelayMs, type TimerSource } from '../logic/presence';
import { checkDraw, fingerprint, type DrawProblem, type Fairness, type FairnessEntries } from '../logic/prequeue';
import { clearQueue, forgetTicket, leftHere, loadAccess, loadTicket, markLeft, noteAhead, saveAccess, saveTicket, updateTicket,
  type StoredTicket } from '../logic/queue-store';
import { abandonedWhy, leaveOffered, statusStep } from '../logic/queue-state';
import { pageTimer, workerTimer } from '../poll-clock';
import { every, later, navigate, type ViewCtx } from '../router';
import { announce, errorBox, handleAuthError, requireSession } from './common';
import { loadShow, showCard } from './context';

/** Why a recomputed draw does not confirm the server's answer, in words. */
function problemText(p: DrawProblem, entry: string): string {
  switch (p.kind) {
    case 'unknown_shuffle': return t('queue.draw.why.unknown_shuffle', { shuffle: p.shuffle });
    case 'commitment_changed': return t('queue.draw.why.commitment_changed', { published: fingerprint(p.published), seen: fingerprint(p.seen) });
    case 'size_mismatch': return t('queue.draw.why.size_mismatch', { listed: p.listed, size: p.size });
    case 'entry_missing': return t('queue.draw.why.entry_missing', { entry });
    case 'position_mismatch': return t('queue.draw.why.position_mismatch', { computed: p.computed, server: p.server });
    default: return t(`queue.draw.why.${p.kind}` as Key);
  }
}

/** A translated sentence with a node (a code, a link) where its `{name}` placeholder is. */
function withNode(text: string, name: string, node: Node): (Node | string)[] {
  const i = text.indexOf(`{${name}}`);
  return i < 0 ? [text, ' ', node] : [text.slice(0, i), node, text.slice(i + name.length + 2)];
}

export async function waitingView({ main, params, signal }: ViewCtx): Promise<void> {
  const s = requireSession();
  if (!s) return;
  const pid = params.pid;
  const seatsUrl = `/p/${encodeURIComponent(pid)}/seats`;
  // Sold out: seats that come back go to the waiting list.
  const waitlistLink = () => h('p', {}, h('a', { href: `/p/${encodeURIComponent(pid)}/waitlist`, class: 'button',
    'data-testid': 'waitlist-link' }, t('waitlist.join')));
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
  const stats = h('dl', { class: 'stats' },
    h('div', {}, h('dt', {}, t('queue.position')), h('dd', {}, pos)),
    h('div', {}, h('dt', {}, t('queue.ahead')), h('dd', {}, ahead)),
    h('div', {}, h('dt', {}, t('queue.wait')), h('dd', {}, wait)));

  // The pre-queue (before the sale opens): a countdown to the opening, why joining early gains
  // nothing, and the fingerprint of the seed the order will be drawn from.
  const countdown = h('output', { class: 'countdown', 'aria-live': 'off', 'data-testid': 'prequeue-countdown' }, '…');
  const opensNote = h('p', { class: 'small', 'data-testid': 'prequeue-opens' });
  const fairNote = h('p', { 'data-testid': 'prequeue-fairness' });
  const prePanel = h('div', { class: 'prequeue', hidden: true, 'data-testid': 'prequeue' },
    h('h3', {}, t('queue.prequeue.title')),
    h('p', { class: 'muted' }, t('queue.prequeue.opens_in')), countdown, opensNote, fairNote);
  const entryOut = h('code', { class: 'hex', 'data-testid': 'queue-entry' });
  const entryLine = h('p', { class: 'small', hidden: true }, t('queue.entry'), ': ', entryOut);
  // After the draw: the revealed seed, and the draw recomputed here on request.
  const drawNote = h('p', { class: 'small' });
  const seedOut = h('code', { class: 'hex', 'data-testid': 'draw-seed' });
  const seedLine = h('p', { class: 'small', hidden: true }, t('queue.draw.seed'), ': ', seedOut);
  const verifyBtn = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'verify-draw' }, t('queue.draw.verify'));
  const verifyOut = h('div', { 'aria-live': 'polite', 'data-testid': 'verify-result' });
  const drawPanel = h('section', { class: 'draw', hidden: true, 'aria-labelledby': 'dh', 'data-testid': 'draw' },
    h('h3', { id: 'dh' }, t('queue.draw.title')), drawNote, seedLine, verifyBtn, verifyOut);

  // Leaving the line (waiting or admitted), confirmed first: it cannot be undone. After it, or when
  // the place was given up otherwise, the one way on is a new place at the back.
  const leaveBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'leave-queue' }, t('queue.leave'));
  const leaveLine = h('p', { hidden: true }, leaveBtn);
  const leaveYes = h('button', { type: 'button', class: 'button danger', 'data-testid': 'leave-confirm' }, t('queue.leave.yes'));
  const leaveNo = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'leave-cancel', autofocus: true }, t('queue.leave.no'));
  const leaveText = h('p', { id: 'leave-dlg-p' });
  const leaveDlg = h('dialog', { 'aria-labelledby': 'leave-dlg-h', 'aria-describedby': 'leave-dlg-p', 'data-testid': 'leave-dialog' },
    h('h2', { id: 'leave-dlg-h' }, t('queue.leave.title')), leaveText, h('p', {}, leaveYes, ' ', leaveNo));
  const againBtn = h('button', { type: 'button', 'data-testid': 'queue-join-again' }, t('queue.join_again'));
  const againLine = h('p', { hidden: true }, againBtn);
  // With presence on: the page must stay open (and checking in) to keep the place.
  const presenceNote = h('p', { class: 'small presence-note', hidden: true, 'data-testid': 'queue-presence' });

  main.appendChild(h('section', { class: 'queue card', 'aria-labelledby': 'qh' },
    h('h2', { id: 'qh', class: 'sr-only' }, t('queue.title')),
    prePanel, stats, progress, status, againLine, next, entryLine, drawPanel, presenceNote, h('p', { class: 'small' }, t('queue.keep')),
    leaveLine, leaveDlg));

  // Title and status of the performance (paused: people keep waiting), and its presence timeout.
  let perf: Performance | null = null;
  let ended = false;   // the place was given up: nothing to keep present
  const presence = (): number => presenceSeconds(perf?.queue?.presence_timeout_seconds);
  const renderPresence = () => {
    const p = presence();
    presenceNote.hidden = p <= 0 || ended;
    const text = p > 0 ? t('queue.presence', { time: formatTimeout(p) }) : '';
    if (presenceNote.textContent !== text) presenceNote.textContent = text;
  };
  const refreshPerf = async () => {
    try {
      perf = (await call<Performance>('GET', `/v1/performances/${encodeURIComponent(pid)}`, { signal })).data;
      renderPresence();
    } catch { /* shown by the poll if it matters */ }
  };
  try {
    const show = await loadShow(pid, signal);
    perf = show.perf;
    sub.replaceChildren(showCard(show));
    renderPresence();
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
  let poll: () => Promise<void> = async () => {};

  // Before the pre-queue opens a join is refused (sale_not_open): say when it opens and join then.
  // The pre-queue has no order, so arriving a second or two after its opening loses nothing, and
  // spreading the crowd's joins over that time spares the service a spike. `refused`: the server
  // said not yet although this clock says open (the clocks differ a little): ask again shortly.
  const waitForPreQueue = (refused: boolean): boolean => {
    const opens = perf?.queue_opens_at;
    const at = opens ? Date.parse(opens) : NaN;
    if (!opens || Number.isNaN(at)) return false;
    const left = at - (Date.now() + serverSkewMs);
    if (left <= 0 && !(refused && left > -15_000)) return false;
    status.replaceChildren(message('info', t('queue.prequeue.not_yet', { when: formatDate(opens) }), 'prequeue-not-yet'));
    next.textContent = '';
    stats.hidden = true;      // no place, nobody ahead, no wait yet: back with the first status
    progress.hidden = true;
    later(signal, Math.min(2 ** 31 - 1, Math.max(0, left) + 300 + Math.random() * 1700), () => void (async () => {
      await refreshPerf();   // the operator may have moved the pre-queue
      if (await join()) await poll();
    })());
    return true;
  };

  const join = async (): Promise<boolean> => {
    const url = `/v1/performances/${encodeURIComponent(pid)}/queue`;
    const post = async (pow?: { challenge: string; nonce: string }) =>
      (await call<QueueJoin>('POST', url, { session: s.token, signal, body: pow ? { pow } : undefined })).data;
    if (waitForPreQueue(false)) return false;
    try {
      let data: QueueJoin;
      try {
        data = await post((perf?.queue?.pow_difficulty ?? 0) > 0 ? await prove() : undefined);
      } catch (e) {
        // The sale started asking for a proof, or the one sent ran out: one more, freshly solved.
        if (!(e instanceof ApiError && (e.code === 'challenge_required' || e.code === 'challenge_invalid'))) throw e;
        data = await post(await prove());
      }
      ticket = { ticket: data.ticket, position: data.position, account: s.email,
                 entryId: data.state === 'pre_queue' ? data.entry_id : undefined };
      saveTicket(localStorage, pid, ticket);
      ended = false;
      againLine.hidden = true;
      renderPresence();
      status.replaceChildren(message('info', t('queue.joining')));
      if (data.state === 'pre_queue') setPhase('pre');
      return true;
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' || handleAuthError(e)) return false;
      if (e instanceof ApiError && e.code === 'sale_not_open' && waitForPreQueue(true)) return false;
      // Refused at the door (a crowd larger than the service can take in at once): come back
      // when the server says, by itself. Nothing was taken, so nothing is lost by waiting.
      const retry = e instanceof ApiError ? joinRetryMs(e.status, e.retryAfter, Date.now(), Math.random()) : null;
      if (retry !== null) {
        status.replaceChildren(message('info', t('queue.busy', { s: Math.round(retry / 1000) }), 'queue-busy'));
        later(signal, retry, () => void (async () => {
          if (await join()) await poll();
        })());
        return false;
      }
      status.replaceChildren(errorBox(e), ...(e instanceof ApiError && e.code === 'sold_out' ? [waitlistLink()] : []));
      return false;
    }
  };

  // ---- the pre-queue and its draw ----
  let phase: 'pre' | 'line' = 'line';
  const setPhase = (p: 'pre' | 'line') => {
    phase = p;
    prePanel.hidden = p !== 'pre';
    stats.hidden = p === 'pre';
    progress.hidden = p === 'pre';
  };
  // The opening: the performance's sale_opens_at, else the server's estimate when it was given.
  let opensAtEstimate: number | null = null;
  const opensAtMs = (): number | null => {
    const at = perf ? Date.parse(perf.sale_opens_at) : NaN;
    return Number.isNaN(at) ? opensAtEstimate : at;
  };
  const tick = () => {
    if (phase !== 'pre') return;
    const at = opensAtMs();
    if (at === null) return;
    const ms = at - (Date.now() + serverSkewMs);
    countdown.textContent = formatCountdown(ms);
    const note = ms > 0 ? t('queue.prequeue.at', { when: formatDate(new Date(at).toISOString()) }) : t('queue.prequeue.drawing');
    if (opensNote.textContent !== note) opensNote.textContent = note;
  };
  every(signal, 500, tick);

  const fairUrl = `/v1/performances/${encodeURIComponent(pid)}/queue/fairness`;
  let fairness: Fairness | null = null;
  let noDraw = false;   // 404: this performance has no pre-queue
  let loadingFairness: Promise<void> | null = null;
  let lastPosition: number | null = null;
  let lastEntry: string | undefined;   // the entry id the last status named
  let verifying = false;
  // A buyer who saw the pre-queue was in the draw; one seeing this ticket for the first time after
  // the opening (another device) was if the position is among the drawn ones. Later joins line up
  // behind them, first come first served, and have nothing to verify.
  const inDraw = (): boolean =>
    !!ticket?.entryId || (!!lastEntry && !!fairness && lastPosition !== null && lastPosition <= fairness.pre_queue_size);

  const renderFairness = () => {
    if (!fairness) return;
    const c = fairness.seed_commitment;
    if (fairNote.dataset.commitment !== c) {
      fairNote.dataset.commitment = c;
      fairNote.replaceChildren(...withNode(t('queue.prequeue.fair'), 'fp',
        h('code', { class: 'fingerprint', title: c, 'data-testid': 'prequeue-commitment' }, fingerprint(c))),
        h('details', { class: 'small' }, h('summary', {}, t('queue.prequeue.commitment')),
          h('code', { class: 'hex', 'data-testid': 'prequeue-commitment-full' }, c)));
    }
    if (phase !== 'line' || !inDraw()) return;
    drawPanel.hidden = false;
    entryLine.hidden = false;
    drawNote.textContent = t(fairness.seed ? 'queue.draw.done' : 'queue.draw.pending');
    seedOut.textContent = fairness.seed ?? '';
    seedLine.hidden = !fairness.seed;
    verifyBtn.disabled = !fairness.seed || verifying;
  };
  const loadFairness = (): Promise<void> => {
    loadingFairness ??= (async () => {
      try {
        fairness = (await call<Fairness>('GET', fairUrl, { signal, revalidate: true })).data;
        // The commitment as seen before the opening: the check after the draw holds the server to it.
        if (ticket && phase === 'pre' && !ticket.commitment && fairness.seed_commitment) {
          ticket = updateTicket(localStorage, pid, ticket, { commitment: fairness.seed_commitment });
        }
        renderFairness();
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) noDraw = true;
      } finally {
        loadingFairness = null;
      }
    })();
    return loadingFairness;
  };

  verifyBtn.addEventListener('click', async () => {
    const entry = ticket?.entryId ?? lastEntry;
    if (!entry || lastPosition === null || verifying) return;
    verifying = true;
    verifyBtn.disabled = true;
    verifyOut.replaceChildren(message('info', t('queue.draw.verifying')));
    try {
      const [f, list] = await Promise.all([
        call<Fairness>('GET', fairUrl, { signal, revalidate: true }),
        call<FairnessEntries>('GET', `${fairUrl}/entries`, { signal, revalidate: true })]);
      await new Promise((r) => setTimeout(r, 0));   // the message shows before a long list is drawn
      const r = checkDraw(f.data, list.data, entry, lastPosition, ticket?.commitment);
      verifyOut.replaceChildren(r.ok
        ? message('success', t('queue.draw.verified', { entry, n: r.position }), 'draw-verified')
        : r.problem.kind === 'not_drawn'
          ? message('info', problemText(r.problem, entry), 'draw-not-yet')
          : message('warning', t('queue.draw.bad', { reason: problemText(r.problem, entry) }), 'draw-mismatch'));
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') return;
      verifyOut.replaceChildren(errorBox(e));
    } finally {
      verifying = false;
      verifyBtn.disabled = false;
    }
  });

  // When to poll next: the page's timer, and under presence a worker's beside it (a background tab
  // slows the page's down); a page back in front polls at once if a poll is overdue.
  const pageClock = pageTimer();
  let workerClock: TimerSource | null = null;
  const schedule = new PollSchedule(
    () => (presence() > 0 ? [pageClock, workerClock ??= workerTimer(signal)] : [pageClock]), Date.now, () => void poll());
  const onVisible = () => { if (document.visibilityState === 'visible') schedule.visible(); };
  document.addEventListener('visibilitychange', onVisible);
  signal.addEventListener('abort', () => { schedule.stop(); document.removeEventListener('visibilitychange', onVisible); }, { once: true });
  // A poll started before the place was left or given up (or joined again) ends without effect.
  let generation = 0;
  let lastState: string | null = null;

  let failures = 0;
  let polls = 0;
  const show = (st: QueueLineStatus) => {
    if (st.entry_id) {
      lastEntry = st.entry_id;
      // Seen in the pre-queue: this ticket is in the draw.
      if (st.state === 'pre_queue' && ticket && ticket.entryId !== st.entry_id) ticket = updateTicket(localStorage, pid, ticket, { entryId: st.entry_id });
    }
    const entry = ticket?.entryId ?? lastEntry;
    if (entry) entryOut.textContent = entry;
    if (st.state === 'pre_queue') {
      setPhase('pre');
      entryLine.hidden = !entry;
      opensAtEstimate = Date.now() + serverSkewMs + st.estimated_wait_seconds * 1000;
      tick();
      if (!fairness && !noDraw) void loadFairness();
      return;
    }
    setPhase('line');
    leaveLine.hidden = !leaveOffered(st.state);
    lastPosition = st.position;
    // After the draw: the revealed seed (asked for until it is there) and the check.
    if (entry && !noDraw && !fairness?.seed) void loadFairness(); else renderFairness();
    pos.textContent = st.position === null ? '—' : String(st.position);
    ahead.textContent = String(st.ahead);
    // While the sale is paused nobody moves: no estimate rather than a meaningless one.
    wait.textContent = perf?.status === 'paused' && st.state === 'waiting' ? '—' : formatWait(st.estimated_wait_seconds);
    if (ticket) ticket = noteAhead(localStorage, pid, ticket, st.ahead);
    const pct = Math.round(100 * (st.state === 'admitted' ? 1 : queueProgress(ticket?.firstAhead ?? st.ahead, st.ahead)));
    bar.style.width = `${pct}%`;
    progress.setAttribute('aria-valuenow', String(pct));
  };
  // The place is gone (left here, or given up): no more polls, the stored ticket is forgotten, and
  // the page offers a new place at the back.
  const endPlace = (gone: string, msg: HTMLElement) => {
    generation++;
    schedule.stop();
    ended = true;
    ticket = null;
    lastState = null;
    forgetTicket(localStorage, pid, gone);
    status.replaceChildren(msg);
    next.textContent = '';
    prePanel.hidden = true;
    stats.hidden = true;
    progress.hidden = true;
    leaveLine.hidden = true;
    entryLine.hidden = true;
    drawPanel.hidden = true;
    renderPresence();
    againLine.hidden = false;
  };
  poll = async (): Promise<void> => {
    if (signal.aborted || !ticket) return;
    const gen = generation;
    let delay: number;
    try {
      const res = await call<QueueStatus>('GET', `/v1/performances/${encodeURIComponent(pid)}/queue/status`, { ticket: ticket.ticket, signal });
      if (gen !== generation || !ticket) return;
      failures = 0;
      const st = res.data;
      if (st.state === 'abandoned') {
        const why = abandonedWhy(leftHere(localStorage, pid, ticket.ticket), presence());
        endPlace(ticket.ticket, message('warning', t(`queue.abandoned.${why}`, { time: formatTimeout(presence()) }), 'queue-abandoned'));
        return;
      }
      lastState = st.state;
      show(st);
      const step = statusStep(st);
      if (step === 'admitted' && st.access_token && st.access_expires_at) {
        saveAccess(localStorage, pid, { token: st.access_token, expiresAt: st.access_expires_at });
        status.replaceChildren(message('success', t('queue.admitted'), 'queue-admitted'));
        announce(t('queue.admitted'));
        // On to the seats, unless the buyer leaves meanwhile (or is deciding whether to).
        const go = () => {
          if (gen !== generation) return;
          if (leaveDlg.open) later(signal, 500, go); else navigate(seatsUrl, true);
        };
        later(signal, 600, go);
        return;
      }
      if (step === 'final') {
        status.replaceChildren(message('warning', t(`queue.${st.state}` as Key), 'queue-final'),
          ...(st.state === 'sold_out' ? [waitlistLink()] : []));
        next.textContent = '';
        return;
      }
      status.replaceChildren(perf?.status === 'paused' ? message('info', t('queue.paused')) : h('span'));
      delay = pollDelayMs(res.headers.get('Retry-After'), Date.now(), Math.random());
      if (++polls % 5 === 0) void refreshPerf();
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' || gen !== generation) return;
      if (e instanceof ApiError && e.code === 'invalid_ticket') {
        clearQueue(localStorage, pid);
        ticket = null;
        status.replaceChildren(errorBox(e));
        if (await join()) schedule.after(500);
        return;
      }
      failures++;
      status.replaceChildren(errorBox(e));
      delay = backoffMs(failures, e instanceof ApiError ? e.retryAfter : null);
    }
    // With presence on, never later than a third of its timeout (after failures too).
    delay = presentDelayMs(delay, presence());
    next.textContent = t('queue.next', { s: Math.round(delay / 1000) });
    schedule.after(delay);
  };

  leaveBtn.addEventListener('click', () => {
    leaveText.textContent = t(lastState === 'admitted' ? 'queue.leave.confirm_admitted' : 'queue.leave.confirm');
    leaveDlg.showModal();
  });
  leaveNo.addEventListener('click', () => leaveDlg.close());
  leaveYes.addEventListener('click', async () => {
    leaveDlg.close();
    const tk = ticket;
    if (!tk) return;
    // No polls while leaving: an answer for the place being given up would only confuse.
    generation++;
    schedule.stop();
    leaveBtn.disabled = true;
    status.replaceChildren(message('info', t('queue.leaving')));
    try {
      await leaveQueue(pid, tk.ticket, signal);
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') return;
      // A ticket the server does not take holds no place: as good as left.
      if (!(e instanceof ApiError && e.code === 'invalid_ticket')) {
        leaveBtn.disabled = false;
        status.replaceChildren(errorBox(e));
        schedule.after(1000);   // still in line: keep polling
        return;
      }
    }
    leaveBtn.disabled = false;
    markLeft(localStorage, pid, tk.ticket);
    endPlace(tk.ticket, message('success', t('queue.left'), 'queue-left'));
    againBtn.focus();
  });
  againBtn.addEventListener('click', async () => {
    againBtn.disabled = true;
    againLine.hidden = true;
    generation++;
    pos.textContent = ahead.textContent = wait.textContent = '…';
    bar.style.width = '0%';
    progress.setAttribute('aria-valuenow', '0');
    lastEntry = undefined;
    lastPosition = null;
    setPhase('line');
    status.replaceChildren(message('info', t('queue.joining')));
    const joined = await join();
    againBtn.disabled = false;
    if (joined) await poll(); else if (!ticket) againLine.hidden = false;
  });

  // Another tab admitted with the same ticket: follow it. Another tab left the line (the stored
  // ticket is gone): ask now, the answer says so.
  const onStorage = (e: StorageEvent) => {
    if (e.key === `tk.access.${pid}` && loadAccess(localStorage, pid)) navigate(seatsUrl, true);
    else if (e.key === `tk.queue.${pid}` && e.newValue === null && ticket) schedule.hurry();
  };
  window.addEventListener('storage', onStorage);
  signal.addEventListener('abort', () => window.removeEventListener('storage', onStorage), { once: true });
  if (ticket || await join()) await poll();
}
