import QRCode from 'qrcode';
import { ApiError, call, serverSkewMs, type Order, type Ticket } from '../api';
import { field, h, message } from '../dom';
import { formatDate, formatMoney, t, type Key } from '../i18n';
import { WarningText, formatCountdown, remainingMs, urgency } from '../logic/countdown';
import { forgetKey, keyFor, sendWithRetry } from '../logic/idempotency';
import { idleKeepAliveMs } from '../logic/presence';
import { clearQueue, loadAccess } from '../logic/queue-store';
import { every, type ViewCtx } from '../router';
import { announce, errorBox, handleAuthError, requireSession } from './common';
import { pdfButton, ticketStatus } from './tickets';
import { loadShow, noSeatNames, orderNumber, seatLines, seatNames, showCard, type SeatNames, type Show } from './context';

interface PayResult { order_id: string; status: string; tickets: Ticket[] }

export async function orderView({ main, params, signal }: ViewCtx): Promise<void> {
  const sess = requireSession();
  if (!sess) return;
  const oid = params.oid;
  const box = h('div', {}, t('common.loading'));
  main.appendChild(box);
  let order: Order;
  let names: SeatNames = noSeatNames;
  let show: Show | null = null;
  try {
    order = (await call<Order>('GET', `/v1/orders/${encodeURIComponent(oid)}`, { session: sess.token, signal })).data;
    try {
      show = await loadShow(order.performance_id, signal);
      names = await seatNames(show.perf.venue_id, signal);
    } catch { /* the show's details are a nicety here; the order stands on its own */ }
  } catch (e) {
    if (handleAuthError(e)) return;
    box.replaceChildren(errorBox(e));
    return;
  }
  box.remove();
  if (order.status === 'paid' || order.status === 'refund_pending' || order.status === 'refunded') {
    await confirmation(main, order, names, show);
    main.appendChild(refundSection(order, show, sess.token));
    return;
  }

  main.appendChild(h('h1', {}, t('checkout.title')));
  const badge = h('span', { class: `badge st-${order.status}`, 'data-testid': 'order-status' }, t(`orders.status.${order.status}` as Key));
  const summary = h('section', { class: 'card', 'aria-labelledby': 'sumh' },
    h('h2', { id: 'sumh' }, t('checkout.summary')),
    orderNumber(order.id),
    seatLines(order.seat_ids, names, show),
    h('p', { class: 'total' }, t('seats.total', { amount: formatMoney(order.total_cents, order.currency) })),
    badge);
  if (show) main.appendChild(showCard(show));
  main.appendChild(summary);
  if (order.status !== 'pending') {
    main.appendChild(h('p', {}, h('a', { href: `/p/${encodeURIComponent(order.performance_id)}/seats`, class: 'button', 'data-testid': 'back-to-seats' }, t('checkout.again'))));
    return;
  }

  const countdown = h('output', { class: 'countdown', 'data-testid': 'order-countdown' });
  const card = h('input', { name: 'card_token', autocomplete: 'cc-number', required: true, spellcheck: 'false', maxlength: 64 });
  const payBtn = h('button', { type: 'submit', 'data-testid': 'pay-button' }, t('checkout.pay', { amount: formatMoney(order.total_cents, order.currency) }));
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'pay-status' });
  const payWarn = h('p', { class: 'countdown-warning', 'aria-live': 'assertive', 'data-testid': 'pay-warning' });
  const warning = new WarningText((k) => { payWarn.textContent = k ? t(k as Key) : ''; });
  const form = h('form', { class: 'form card' }, h('p', {}, t('checkout.time_left'), ' ', countdown), payWarn, field(t('checkout.card'), card), payBtn, out);
  main.appendChild(form);
  let expired = false;
  // The hold ran out: the order cannot be paid any more; say so everywhere and lead back to the
  // seats (a new hold, while the waiting-room access lasts; else the waiting room again).
  const expire = (kind: 'warning' | 'error') => {
    expired = true;
    payBtn.disabled = true;
    card.disabled = true;
    badge.className = 'badge st-expired';
    badge.textContent = t('orders.status.expired');
    localStorage.removeItem(`tk.hold.${order.performance_id}`);
    out.replaceChildren(message(kind, t('checkout.expired'), 'pay-error'),
      h('a', { href: `/p/${encodeURIComponent(order.performance_id)}/seats`, class: 'button', 'data-testid': 'back-to-seats' }, t('checkout.again')));
  };
  every(signal, 250, () => {
    const ms = remainingMs(order.expires_at, Date.now(), serverSkewMs);
    countdown.textContent = formatCountdown(ms);
    countdown.className = `countdown ${urgency(ms)}`;
    if (!expired) warning.update(ms);
    if (ms <= 0 && !expired) { payWarn.textContent = ''; expire('warning'); }
  });

  // Under an idle timeout the admitted place lasts only while its access token is in use, and a
  // buyer whose card is declined needs it to choose other seats: the checkout page uses it too,
  // until the order is paid or has expired (a buyer still here then has walked away).
  const keepAliveMs = idleKeepAliveMs(show?.perf.queue?.idle_timeout_seconds);
  if (keepAliveMs !== null) {
    const pid = order.performance_id;
    const keep = new AbortController();
    signal.addEventListener('abort', () => keep.abort(), { once: true });
    every(keep.signal, keepAliveMs, async () => {
      const access = loadAccess(localStorage, pid);
      if (!access || expired || order.status !== 'pending') { keep.abort(); return; }
      try {
        await call('GET', `/v1/performances/${encodeURIComponent(pid)}/sections`,
          { session: sess.token, access: access.token, signal: keep.signal });
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) keep.abort();   // the place is gone already
      }
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (expired) return;
    payBtn.disabled = true;
    out.replaceChildren(message('info', t('checkout.paying')));
    const body = { method: 'card', card_token: card.value.trim() };
    // The same key for the same order and body until a definitive answer: a retry after a lost
    // connection replays the first attempt on the server and never charges twice.
    const key = keyFor(localStorage, oid, JSON.stringify(body));
    try {
      const { data } = await sendWithRetry(key, (k) => call<PayResult>('POST', `/v1/orders/${encodeURIComponent(oid)}/payment`,
        { session: sess.token, body, idempotencyKey: k }), {
        onRetry: () => out.replaceChildren(message('warning', t('checkout.retrying'), 'pay-retrying')),
      });
      forgetKey(localStorage, oid);
      localStorage.removeItem(`tk.hold.${order.performance_id}`);
      clearQueue(localStorage, order.performance_id);
      order = { ...order, status: 'paid', tickets: data.tickets };
      main.replaceChildren();
      await confirmation(main, order, names, show);
      main.appendChild(refundSection(order, show, sess.token));
    } catch (err) {
      payBtn.disabled = false;
      if (handleAuthError(err)) return;
      if (err instanceof ApiError && err.code === 'payment_declined') {
        forgetKey(localStorage, oid);   // a new attempt (another card) gets a new key
        out.replaceChildren(message('error', t('checkout.declined'), 'pay-error'));
      } else if (err instanceof ApiError && err.code === 'order_already_paid') {
        forgetKey(localStorage, oid);
        location.reload();
      } else if (err instanceof ApiError && err.code === 'hold_expired') {
        expire('error');
      } else {
        // Network error after the retries: the key stays, so pressing Pay again is still safe.
        out.replaceChildren(errorBox(err));
      }
    }
  });
}

// The refund of a paid order: a button, a confirmation dialog, then the request (one
// Idempotency-Key per order until a definitive answer, so a retry never asks twice). A refunded or
// refunding order shows its state instead.
function refundSection(order: Order, show: Show | null, token: string): HTMLElement {
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'refund-status' });
  const box = h('section', { class: 'card refund', 'aria-labelledby': 'refundh' },
    h('h2', { id: 'refundh' }, t(`orders.status.${order.status}` as Key)), out);
  if (order.status !== 'paid') {
    out.appendChild(message('info', t(order.status === 'refunded' ? 'refund.done' : 'refund.requested')));
    return box;
  }
  box.firstChild!.textContent = t('refund.button');
  if (show?.perf.refundable_until) {
    out.appendChild(h('p', { 'data-testid': 'refund-until' }, t('refund.until', { time: formatDate(show.perf.refundable_until) })));
  }
  const btn = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'refund-button' }, t('refund.button'));
  const yes = h('button', { type: 'button', class: 'button danger', 'data-testid': 'refund-confirm' }, t('refund.yes'));
  const no = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'refund-cancel', autofocus: true }, t('refund.no'));
  const dlg = h('dialog', { 'aria-labelledby': 'refund-dlg-h', 'aria-describedby': 'refund-dlg-p', 'data-testid': 'refund-dialog' },
    h('h2', { id: 'refund-dlg-h' }, t('refund.title')),
    h('p', { id: 'refund-dlg-p' }, t('refund.confirm', { amount: formatMoney(order.total_cents, order.currency) })),
    h('p', {}, yes, ' ', no));
  btn.addEventListener('click', () => dlg.showModal());
  no.addEventListener('click', () => dlg.close());
  yes.addEventListener('click', async () => {
    dlg.close();
    btn.disabled = true;
    out.replaceChildren(message('info', t('refund.sending')));
    const slot = `refund.${order.id}`;
    const key = keyFor(localStorage, slot, '');
    try {
      await sendWithRetry(key, (k) => call('POST', `/v1/orders/${encodeURIComponent(order.id)}/refund`,
        { session: token, idempotencyKey: k }));
      forgetKey(localStorage, slot);
      announce(t('refund.requested'));
      location.reload();   // the order, its tickets (void) and its state as the server has them
    } catch (err) {
      if (handleAuthError(err)) return;
      if (err instanceof ApiError && (err.code === 'not_refundable' || err.code === 'already_refunded')) {
        forgetKey(localStorage, slot);
        out.replaceChildren(message('error', t(err.code === 'already_refunded' ? 'refund.already' : 'refund.not_refundable'), 'refund-error'));
      } else {
        btn.disabled = false;
        out.replaceChildren(errorBox(err));
      }
    }
  });
  out.appendChild(h('p', {}, btn));
  box.appendChild(dlg);
  return box;
}

async function confirmation(main: HTMLElement, order: Order, names: SeatNames,
                            show: Show | null): Promise<void> {
  main.appendChild(h('h1', { 'data-testid': 'confirmation' },
    order.status === 'paid' ? t('confirm.title') : t(`orders.status.${order.status}` as Key)));
  main.appendChild(h('p', {}, h('span', { class: `badge st-${order.status}`, 'data-testid': 'order-status', 'data-status': order.status },
    t(`orders.status.${order.status}` as Key))));
  if (show) main.appendChild(showCard(show, orderNumber(order.id), seatLines(order.seat_ids, names, show),
    h('p', { class: 'total' }, t('seats.total', { amount: formatMoney(order.total_cents, order.currency) }))));
  else main.appendChild(orderNumber(order.id));
  announce(t('confirm.title'));
  const list = h('ul', { class: 'tickets', 'data-testid': 'tickets' });
  main.appendChild(list);
  let n = 0;
  for (const tk of order.tickets ?? []) {
    n++;
    if (tk.status === 'void') {   // a refunded ticket: no code to show at the door
      list.appendChild(h('li', { class: 'ticket card', 'data-testid': 'ticket' },
        h('h2', {}, t('confirm.ticket', { n })), h('p', {}, names.describe(tk.seat_id), ' ', ticketStatus(tk))));
      continue;
    }
    const url = await QRCode.toDataURL(tk.code, { errorCorrectionLevel: 'M', margin: 2, width: 220 });
    list.appendChild(h('li', { class: 'ticket card', 'data-testid': 'ticket' },
      h('h2', {}, t('confirm.ticket', { n })),
      h('p', {}, names.describe(tk.seat_id), ' ', ticketStatus(tk)),
      h('p', {}, pdfButton(tk, n)),
      h('img', { src: url, width: 220, height: 220, alt: t('confirm.qr', { n }), class: 'qr', 'data-testid': 'ticket-qr', 'data-code': tk.code }),
      h('details', {}, h('summary', {}, t('confirm.code')), h('code', { class: 'code' }, tk.code))));
  }
  main.appendChild(h('p', {}, h('a', { href: '/me/orders' }, t('nav.orders'))));
}
