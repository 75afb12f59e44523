import { call, type Order } from '../api';
import { h, message } from '../dom';
import { formatMoney, t, type Key } from '../i18n';
import type { ViewCtx } from '../router';
import { errorBox, handleAuthError, requireSession } from './common';
import { pdfButton, ticketStatus } from './tickets';
import { loadShow, noSeatNames, orderNumber, seatLines, seatNames, showCard, type SeatNames, type Show } from './context';

/** Loads each key once, however many orders share it. */
function once<T>(load: (key: string) => Promise<T>): (key: string) => Promise<T | null> {
  const m = new Map<string, Promise<T | null>>();
  return (key) => {
    if (!m.has(key)) m.set(key, load(key).catch(() => null));
    return m.get(key) as Promise<T | null>;
  };
}

export async function ordersView({ main, signal }: ViewCtx): Promise<void> {
  const sess = requireSession();
  if (!sess) return;
  main.appendChild(h('h1', {}, t('orders.title')));
  try {
    const { data } = await call<{ orders: Order[] }>('GET', '/v1/me/orders', { session: sess.token, signal });
    if (!data.orders.length) { main.appendChild(message('info', t('orders.empty'))); return; }
    const show = once<Show>((pid) => loadShow(pid, signal));
    const names = once<SeatNames>((venue) => seatNames(venue, signal));
    const items = await Promise.all(data.orders.map(async (o) => {
      const s = await show(o.performance_id);
      const n = (s && (await names(s.perf.venue_id))) || noSeatNames;
      const details = [orderNumber(o.id), seatLines(o.seat_ids, n, s),
        h('p', { class: 'order-foot' },
          h('span', { class: `badge st-${o.status}` }, t(`orders.status.${o.status}` as Key)), ' ',
          h('span', { class: 'total' }, formatMoney(o.total_cents, o.currency)), ' ',
          h('a', { href: `/orders/${encodeURIComponent(o.id)}`, class: 'button secondary', 'aria-label': `${t('orders.view')} ${o.id}` }, t('orders.view'))),
        o.tickets?.length
          ? h('ul', { class: 'ticket-rows', 'aria-label': t('ticket.tickets'), 'data-testid': 'order-tickets' },
            o.tickets.map((tk, i) => h('li', { 'data-testid': 'order-ticket', 'data-ticket': tk.id },
              n.describe(tk.seat_id), ' ', ticketStatus(tk), ' ', pdfButton(tk, i + 1))))
          : null];
      return h('li', { class: 'order-item', 'data-order': o.id }, s ? showCard(s, ...details) : h('div', { class: 'card' }, ...details));
    }));
    main.appendChild(h('ul', { class: 'order-list', 'data-testid': 'orders' }, items));
  } catch (e) {
    if (handleAuthError(e)) return;
    main.appendChild(errorBox(e));
  }
}
