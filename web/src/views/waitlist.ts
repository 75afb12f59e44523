// The waiting list after sell-out: sign up for a number of seats, watch the place, and when seats
// come back for the buyer, pay for them (they are held until a deadline) through the usual order
// and payment pages. Leaving is confirmed first; an offer that ran out leads to a new sign-up.
import { ApiError, call, serverSkewMs, type Order } from '../api';
import { h, message } from '../dom';
import { formatDate, t, type Key } from '../i18n';
import { WarningText, formatCountdown, remainingMs, urgency } from '../logic/countdown';
import { backoffMs } from '../logic/poll';
import { PollSchedule, type TimerSource } from '../logic/presence';
import { saveAccess } from '../logic/queue-store';
import { countChoices, nextPollMs, paidHoldIds, waitlistScreen, type KnownHold, type WaitlistEntry,
  type WaitlistScreen } from '../logic/waitlist';
import { pageTimer, workerTimer } from '../poll-clock';
import { every, type ViewCtx } from '../router';
import { announce, checkout, describe, errorBox, handleAuthError, requireSession } from './common';
import { loadShow, showCard } from './context';

/** The hold last offered here, per performance (the server stops naming it once the offer's
 *  window is over, and a paid offer then still reads `expired`). */
const knownKey = (pid: string) => `tk.waitlist.${pid}`;
function loadKnown(pid: string): KnownHold | null {
  try { return JSON.parse(localStorage.getItem(knownKey(pid)) ?? 'null') as KnownHold | null; } catch { return null; }
}

export async function waitlistView({ main, params, signal }: ViewCtx): Promise<void> {
  const sess = requireSession();
  if (!sess) return;
  const pid = params.pid;
  // An offer e-mail's link carries the offer's access token in the fragment; the page reads the
  // offer through the session, so the token leaves the address bar and the history at once.
  if (location.hash.startsWith('#access_token=')) history.replaceState(null, '', location.pathname + location.search);
  const base = `/v1/performances/${encodeURIComponent(pid)}/waitlist`;
  const seatsUrl = `/p/${encodeURIComponent(pid)}/seats`;

  main.appendChild(h('h1', {}, t('waitlist.title')));
  const sub = h('div');
  main.appendChild(sub);
  const status = h('div', { 'aria-live': 'polite', 'data-testid': 'waitlist-status' }, message('info', t('common.loading')));

  // Sign-up: how offers work, and the seats wanted.
  const countSel = h('select', { id: 'waitlist-count', 'data-testid': 'waitlist-count' });
  const countHelp = h('small', { id: 'waitlist-count-help' });
  countSel.setAttribute('aria-describedby', 'waitlist-count-help');
  const joinBtn = h('button', { type: 'submit', 'data-testid': 'waitlist-join' }, t('waitlist.join'));
  const signup = h('form', { class: 'form', hidden: true, 'data-testid': 'waitlist-signup' },
    h('p', {}, t('waitlist.how')),
    h('div', { class: 'field' }, h('label', { for: 'waitlist-count' }, t('waitlist.count')), countSel, countHelp),
    joinBtn);

  // On the list: the place and the seats asked for.
  const posOut = h('output', { class: 'big', 'data-testid': 'waitlist-position' }, '…');
  const countOut = h('output', { class: 'big', 'data-testid': 'waitlist-seats' }, '…');
  const waiting = h('div', { hidden: true, 'data-testid': 'waitlist-waiting' },
    h('dl', { class: 'stats' },
      h('div', {}, h('dt', {}, t('waitlist.position')), h('dd', {}, posOut)),
      h('div', {}, h('dt', {}, t('waitlist.seats')), h('dd', {}, countOut))),
    h('p', {}, t('waitlist.waiting')), h('p', { class: 'small muted' }, t('waitlist.how')));

  // An offer: the deadline, the time left, and on to payment.
  const deadline = h('p', { 'data-testid': 'offer-deadline' });
  const countdown = h('output', { class: 'countdown', 'aria-live': 'off', 'data-testid': 'offer-countdown' });
  const offerWarn = h('p', { class: 'countdown-warning', 'aria-live': 'assertive', 'data-testid': 'offer-warning' });
  const warning = new WarningText((k) => { offerWarn.textContent = k ? t(k as Key) : ''; });
  const payBtn = h('button', { type: 'button', 'data-testid': 'offer-pay' }, t('waitlist.pay'));
  const offered = h('div', { hidden: true, 'data-testid': 'waitlist-offered' },
    message('success', t('waitlist.offered')), deadline,
    h('p', {}, t('waitlist.time_left'), ' ', countdown), offerWarn, h('p', {}, payBtn));

  const paid = h('div', { hidden: true, 'data-testid': 'waitlist-paid' },
    message('success', t('waitlist.paid')), h('p', {}, h('a', { href: '/me/orders' }, t('nav.orders'))));
  const againBtn = h('button', { type: 'button', 'data-testid': 'waitlist-again' }, t('waitlist.again'));
  const expired = h('div', { hidden: true, 'data-testid': 'waitlist-expired' },
    message('warning', t('waitlist.expired')), h('p', {}, againBtn));

  // Leaving, confirmed first (as the waiting room's): it cannot be undone.
  const leaveBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': 'waitlist-leave' }, t('waitlist.leave'));
  const leaveLine = h('p', { hidden: true }, leaveBtn);
  const leaveYes = h('button', { type: 'button', class: 'button danger', 'data-testid': 'waitlist-leave-confirm' }, t('waitlist.leave.yes'));
  const leaveNo = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'waitlist-leave-cancel', autofocus: true },
    t('waitlist.leave.no'));
  const leaveText = h('p', { id: 'wl-leave-p' });
  const leaveDlg = h('dialog', { 'aria-labelledby': 'wl-leave-h', 'aria-describedby': 'wl-leave-p', 'data-testid': 'waitlist-leave-dialog' },
    h('h2', { id: 'wl-leave-h' }, t('waitlist.leave.title')), leaveText, h('p', {}, leaveYes, ' ', leaveNo));

  main.appendChild(h('section', { class: 'card waitlist', 'aria-labelledby': 'wlh' },
    h('h2', { id: 'wlh', class: 'sr-only' }, t('waitlist.title')),
    status, signup, waiting, offered, paid, expired, leaveLine, leaveDlg));

  let maxCount = 1;
  try {
    const show = await loadShow(pid, signal);
    sub.replaceChildren(showCard(show));
    const choices = countChoices(show.perf.max_seats_per_order, show.perf.max_seats_per_account);
    maxCount = choices.length;
    countSel.replaceChildren(...choices.map((n) => h('option', { value: String(n) }, t('orders.seats', { n }))));
    countHelp.textContent = t('waitlist.count_help', { n: maxCount });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') return;
    status.replaceChildren(errorBox(e));
    return;
  }

  let entry: WaitlistEntry | null = null;
  let paidHolds = new Set<string>();
  let screen: WaitlistScreen = { kind: 'signup' };
  // A request started before a sign-up, a leave or another answer ends without effect.
  let generation = 0;

  const render = () => {
    const prev = screen.kind;
    screen = waitlistScreen(entry, paidHolds, loadKnown(pid), Date.now(), serverSkewMs);
    const s = screen;
    signup.hidden = s.kind !== 'signup';
    waiting.hidden = s.kind !== 'waiting';
    offered.hidden = s.kind !== 'offered';
    paid.hidden = s.kind !== 'paid';
    expired.hidden = s.kind !== 'expired';
    leaveLine.hidden = s.kind !== 'waiting' && s.kind !== 'offered';
    if (s.kind === 'waiting') {
      posOut.textContent = String(s.position);
      countOut.textContent = t('orders.seats', { n: s.count });
    }
    if (s.kind === 'offered') {
      deadline.textContent = t('waitlist.deadline', { when: formatDate(s.deadline) });
      tick();
      if (prev !== 'offered') { announce(t('waitlist.offered')); payBtn.focus(); }
    }
    if ((s.kind === 'expired' || s.kind === 'signup') && entry) countSel.value = String(Math.min(entry.count, maxCount));
  };

  // The offer's countdown, four times a second; at the deadline the offer reads as run out.
  const tick = () => {
    if (screen.kind !== 'offered') return;
    const ms = remainingMs(screen.deadline, Date.now(), serverSkewMs);
    countdown.textContent = formatCountdown(ms);
    countdown.className = `countdown ${urgency(ms)}`;
    warning.update(ms);
    if (ms <= 0) render();
  };
  every(signal, 250, tick);

  // Whether an offered hold was bought: the entry reads `offered` until its window ends, and
  // `expired` after, paid or not.
  const refreshPaid = async () => {
    const hold = entry?.hold_id ?? (loadKnown(pid)?.position === entry?.position ? loadKnown(pid)?.holdId : undefined);
    if (!hold || entry?.state === 'waiting') return;
    try {
      const { data } = await call<{ orders: Order[] }>('GET', '/v1/me/orders', { session: sess.token, signal });
      paidHolds = paidHoldIds(data.orders, pid);
    } catch { /* the offer shows as it is; payment would say the rest */ }
  };

  const load = async (): Promise<void> => {
    try {
      entry = (await call<WaitlistEntry>('GET', `${base}/me`, { session: sess.token, signal })).data;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'not_on_waitlist')) throw e;
      entry = null;
    }
    if (entry?.state === 'offered' && entry.hold_id) {
      localStorage.setItem(knownKey(pid), JSON.stringify({ position: entry.position, holdId: entry.hold_id }));
    }
    await refreshPaid();
  };

  // Polls on the page's timer and a worker's (a background tab slows the page's down, and an
  // offer has a deadline); a page back in front asks at once when a poll is overdue.
  const pageClock = pageTimer();
  let workerClock: TimerSource | null = null;
  let poll: () => Promise<void> = async () => {};
  const schedule = new PollSchedule(() => [pageClock, workerClock ??= workerTimer(signal)], Date.now, () => void poll());
  const onVisible = () => { if (document.visibilityState === 'visible') schedule.visible(); };
  document.addEventListener('visibilitychange', onVisible);
  signal.addEventListener('abort', () => { schedule.stop(); document.removeEventListener('visibilitychange', onVisible); }, { once: true });
  const scheduleNext = () => {
    const ms = nextPollMs(screen, Date.now(), serverSkewMs);
    if (ms === null) schedule.stop(); else schedule.after(ms);
  };

  let failures = 0;
  poll = async () => {
    if (signal.aborted) return;
    const gen = generation;
    try {
      await load();
      if (gen !== generation) return;
      failures = 0;
      status.replaceChildren();
      render();
      scheduleNext();
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' || gen !== generation || handleAuthError(e)) return;
      failures++;
      status.replaceChildren(errorBox(e));
      schedule.after(backoffMs(failures, e instanceof ApiError ? e.retryAfter : null));
    }
  };

  signup.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const gen = ++generation;
    schedule.stop();
    joinBtn.disabled = true;
    status.replaceChildren(message('info', t('waitlist.signing_up')));
    try {
      entry = (await call<WaitlistEntry>('POST', base, { session: sess.token, signal, body: { count: Number(countSel.value) || 1 } })).data;
      if (gen !== generation) return;
      status.replaceChildren();
      render();
      scheduleNext();
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' || handleAuthError(e)) return;
      if (e instanceof ApiError && e.code === 'not_sold_out') {
        status.replaceChildren(message('warning', t('waitlist.not_sold_out'), 'waitlist-error'),
          h('p', {}, h('a', { href: seatsUrl, class: 'button', 'data-testid': 'waitlist-to-seats' }, t('waitlist.to_seats'))));
      } else if (e instanceof ApiError && e.code === 'out_of_range') {
        status.replaceChildren(message('error', t('waitlist.out_of_range', { n: maxCount }), 'waitlist-error'));
      } else {
        status.replaceChildren(message('error', describe(e), 'waitlist-error'));
      }
    } finally {
      joinBtn.disabled = false;
    }
  });

  againBtn.addEventListener('click', () => {
    entry = null;
    status.replaceChildren();
    render();
    countSel.focus();
  });

  payBtn.addEventListener('click', async () => {
    if (screen.kind !== 'offered') return;
    const offer = screen;
    payBtn.disabled = true;
    status.replaceChildren(message('info', t('waitlist.paying')));
    // The offer's access token lets the seat map show the held seats as the buyer's, as after a
    // hold made there (the payment page leads back to it if the time runs out).
    saveAccess(localStorage, pid, { token: offer.accessToken, expiresAt: offer.deadline });
    try {
      await checkout(sess.token, pid, offer.holdId);
    } catch (e) {
      payBtn.disabled = false;
      if (handleAuthError(e)) return;
      status.replaceChildren(errorBox(e));
      schedule.hurry();   // the offer may have run out or been given up meanwhile
    }
  });

  leaveBtn.addEventListener('click', () => {
    leaveText.textContent = t(screen.kind === 'offered' ? 'waitlist.leave.confirm_offered' : 'waitlist.leave.confirm');
    leaveDlg.showModal();
  });
  leaveNo.addEventListener('click', () => leaveDlg.close());
  leaveYes.addEventListener('click', async () => {
    leaveDlg.close();
    // No polls while leaving: an answer for the place being given up would only confuse.
    generation++;
    schedule.stop();
    leaveBtn.disabled = true;
    status.replaceChildren(message('info', t('waitlist.leaving')));
    try {
      await call<null>('DELETE', base, { session: sess.token, signal });
      status.replaceChildren(message('success', t('waitlist.left'), 'waitlist-left'));
    } catch (e) {
      if ((e as Error)?.name === 'AbortError' || handleAuthError(e)) return;
      leaveBtn.disabled = false;
      if (!(e instanceof ApiError && e.code === 'not_on_waitlist')) {
        status.replaceChildren(errorBox(e));
        schedule.after(1000);   // still on the list: keep watching
        return;
      }
      status.replaceChildren(message('info', t('waitlist.not_on_list'), 'waitlist-left'));
    }
    leaveBtn.disabled = false;
    const count = entry?.count;
    entry = null;
    render();
    if (count) countSel.value = String(Math.min(count, maxCount));
    joinBtn.focus();
  });

  await poll();
}
